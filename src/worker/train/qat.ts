import * as tf from '@tensorflow/tfjs-core'
import { customGradient } from '../model/ops'
import type { Numerics } from '../model/numerics'

/**
 * Quantization-aware training: the forward pass sees int8-rounded weights (and
 * activations), the backward pass treats the rounding as the identity (the straight-
 * through estimator), so the float32 master weights learn to sit well on the int8 grid
 * that export (export/quantize.ts) and post-training quantization use.
 */

/** The largest int8 magnitude of a symmetric grid: values are q·s with q in [-127, 127]. */
const QMAX = 127

/** Round to nearest, ties away from zero, as export/quantize.ts does (Math.round on |x|). */
function roundSymmetric(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.sign(x), tf.floor(tf.add(tf.abs(x), 0.5)))
}

/**
 * A weight (in, out), or a stack of experts' weights (E, in, out), on its int8 grid, one
 * scale per output channel (column): s_j = max_i |w_ij| / 127, w ↦ round(w / s_j) · s_j.
 * A column of zeros stays zero. Gradient: straight through.
 */
export function fakeQuantWeight<T extends tf.Tensor>(w: T): T {
  const op = customGradient<T>(([x]) => ({
    value: tf.tidy(() => {
      const amax = tf.max(tf.abs(x), -2, true) // (…, 1, out)
      const scale = tf.div(tf.maximum(amax, 1e-30), QMAX) // (…, 1, out)
      return tf.mul<T>(roundSymmetric(tf.div(x, scale)), scale)
    }),
    gradFunc: (dy) => dy,
  }))
  return op(w)
}

/**
 * An activation on a per-tensor int8 grid whose range is the batch's own max |x| (so
 * nothing is clipped and the straight-through gradient is exact identity). `perExpert`:
 * x is (E, C, in), the rows of E experts, and each expert's rows get their own grid, as
 * when each expert runs on its own rows.
 */
export function fakeQuantActivation<T extends tf.Tensor>(x: T, perExpert = false): T {
  const op = customGradient<T>(([a]) => ({
    value: tf.tidy(() => {
      const amax = perExpert ? tf.max(tf.abs(a), [1, 2], true) : tf.max(tf.abs(a)) // (E, 1, 1) or ()
      const scale = tf.div(tf.maximum(amax, 1e-30), QMAX)
      return tf.mul<T>(roundSymmetric(tf.div(a, scale)), scale)
    }),
    gradFunc: (dy) => dy,
  }))
  return op(x)
}

export type QatActivations = 'dynamic' | 'none'

/**
 * Numerics for QAT on top of the run's own (fp32 or emulated low precision): every weight
 * GEMM (a rank-2 right operand: projections, experts, the output head; or a rank-3 stack
 * of experts' weights, see Numerics) takes int8-rounded weights and, unless `activations`
 * is 'none', int8-rounded inputs. Attention's activation-by-activation products (rank 4)
 * are left alone, as int8 weight-only export leaves them.
 */
export function qatNumerics(inner: Numerics, activations: QatActivations): Numerics {
  const fakeQuantProduct =
    (product: Numerics['matmul']) =>
    (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      if (b.rank !== 2 && b.rank !== 3) return product(a, b)
      const w = fakeQuantWeight(b)
      const x = activations === 'dynamic' ? fakeQuantActivation(a, b.rank === 3) : a
      return product(x, w)
    }
  return {
    matmul: fakeQuantProduct((a, b) => inner.matmul(a, b)),
    outputHead: fakeQuantProduct(inner.outputHead ?? ((a, b) => inner.matmul(a, b))),
    // Attention's products are the inner numerics' own.
    attentionInputs: inner.attentionInputs,
  }
}
