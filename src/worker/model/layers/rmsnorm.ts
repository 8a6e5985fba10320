import * as tf from '@tensorflow/tfjs-core'
import { hasFusedKernel } from '../../kernels/fused'
import { RMSNORM, RMSNORM_GRAD_W, RMSNORM_GRAD_X } from '../../kernels/webgpu-rmsnorm'
import type { ActivationStore } from '../numerics'
import { customGradient } from '../ops'

/**
 * RMSNorm: x / √(mean(x²) + ε) · w. x: (N, D), w: (D). `store` says how the fused form keeps
 * x for the backward (numerics.saved; float32 when absent).
 */
export function rmsNorm(
  x: tf.Tensor2D,
  w: tf.Tensor1D,
  eps: number,
  store?: ActivationStore,
): tf.Tensor2D {
  if (hasFusedKernel(RMSNORM)) return fusedRmsNorm(x, w, eps, store)
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true) // (N, 1)
    return tf.mul<tf.Tensor2D>(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w)
  })
}

/** The same in the backend's fused kernels (webgpu): one launch forward, three backward. */
function fusedRmsNorm(
  x: tf.Tensor2D,
  w: tf.Tensor1D,
  eps: number,
  store: ActivationStore | undefined,
): tf.Tensor2D {
  const run = (name: string, inputs: tf.NamedTensorMap) =>
    tf.engine().runKernel<tf.Tensor>(name, inputs, { eps })
  const op = customGradient<tf.Tensor2D>(([xi, wi], save) => {
    save([store ? store.keep(xi) : xi, wi])
    return {
      value: run(RMSNORM, { x: xi, w: wi }) as tf.Tensor2D,
      gradFunc: (dy, [kept, ws]) => {
        const xs = store ? store.restore(kept, x.shape) : kept
        return [run(RMSNORM_GRAD_X, { x: xs, w: ws, dy }), run(RMSNORM_GRAD_W, { x: xs, dy })]
      },
    }
  })
  return op(x, w)
}
