import * as tf from '@tensorflow/tfjs-core'
import { hasFusedKernel } from '../../kernels/fused'
import { SWIGLU, SWIGLU_GRAD_G, SWIGLU_GRAD_U } from '../../kernels/webgpu-swiglu'
import { withSharedInput, type ActivationStore, type Numerics } from '../numerics'
import { customGradient } from '../ops'
import { linear, type Weight } from './linear'

/**
 * A SwiGLU block's weights: gate and up (D, H), down (H, D); or a stack of E experts'
 * weights, (E, D, H) and (E, H, D), for E batches of rows at once; each may carry an adapter.
 */
export interface SwigluWeights {
  gate: Weight
  up: Weight
  down: Weight
}

/**
 * SwiGLU feed-forward (Shazeer 2020): down(silu(x·W_gate) ⊙ x·W_up).
 *   x: (N, D)  ->  (N, D), or with stacked weights (E, C, D)  ->  (E, C, D)
 */
export function swiglu<T extends tf.Tensor>(x: T, w: SwigluWeights, numerics: Numerics): T {
  return tf.tidy(() => {
    // Both products read x: one copy of it kept for their backward (16-bit runs).
    const [g, u] = withSharedInput(numerics, x, () => [
      linear(x, w.gate, numerics), // (…, N, H)
      linear(x, w.up, numerics), // (…, N, H)
    ])
    return linear(swigluGate(g, u, numerics.saved), w.down, numerics) as T
  })
}

/**
 * silu(g) ⊙ u: in one fused kernel where the backend has it (webgpu), which keeps g and u
 * for its backward as `store` says (float32 when absent); else composed.
 */
export function swigluGate(g: tf.Tensor, u: tf.Tensor, store?: ActivationStore): tf.Tensor {
  if (!hasFusedKernel(SWIGLU)) return tf.mul(tf.mul(g, tf.sigmoid(g)), u)
  const run = (name: string, inputs: tf.NamedTensorMap) =>
    tf.engine().runKernel<tf.Tensor>(name, inputs)
  const op = customGradient<tf.Tensor>(([gi, ui], save) => {
    save(store ? [store.keep(gi), store.keep(ui)] : [gi, ui])
    return {
      value: run(SWIGLU, { g: gi, u: ui }),
      gradFunc: (dh, [gk, uk]) => {
        const [gs, us] = store ? [store.restore(gk, g.shape), store.restore(uk, u.shape)] : [gk, uk]
        return [run(SWIGLU_GRAD_G, { g: gs, u: us, dh }), run(SWIGLU_GRAD_U, { g: gs, dh })]
      },
    }
  })
  return op(g, u)
}
