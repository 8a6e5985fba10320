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
 * A weight (in, out) on its int8 grid, one scale per output channel (column):
 * s_j = max_i |w_ij| / 127, w ↦ round(w / s_j) · s_j. A column of zeros stays zero.
 * Gradient: straight through.
 */
export function fakeQuantWeight(w: tf.Tensor2D): tf.Tensor2D {
  const op = customGradient<tf.Tensor2D>(([x]) => ({
    value: tf.tidy(() => {
      const amax = tf.max(tf.abs(x), 0, true) // (1, out)
      const scale = tf.div(tf.maximum(amax, 1e-30), QMAX) // (1, out)
      return tf.mul<tf.Tensor2D>(roundSymmetric(tf.div(x, scale)), scale)
    }),
    gradFunc: (dy) => dy,
  }))
  return op(w)
}

/**
 * An activation on a per-tensor int8 grid whose range is the batch's own max |x| (so
 * nothing is clipped and the straight-through gradient is exact identity).
 */
export function fakeQuantActivation<T extends tf.Tensor>(x: T): T {
  const op = customGradient<T>(([a]) => ({
    value: tf.tidy(() => {
      const scale = tf.div(tf.maximum(tf.max(tf.abs(a)), 1e-30), QMAX) // scalar
      return tf.mul<T>(roundSymmetric(tf.div(a, scale)), scale)
    }),
    gradFunc: (dy) => dy,
  }))
  return op(x)
}

export type QatActivations = 'dynamic' | 'none'

/**
 * Numerics for QAT on top of the run's own (fp32 or emulated low precision): every weight
 * GEMM (a rank-2 right operand: projections, experts, the output head) takes int8-rounded
 * weights and, unless `activations` is 'none', int8-rounded inputs. Attention's
 * activation-by-activation products are left alone, as int8 weight-only export leaves them.
 */
export function qatNumerics(inner: Numerics, activations: QatActivations): Numerics {
  return {
    matmul(a, b) {
      if (b.rank !== 2) return inner.matmul(a, b)
      const w = fakeQuantWeight(b as tf.Tensor2D)
      const x = activations === 'dynamic' ? fakeQuantActivation(a) : a
      return inner.matmul(x, w)
    },
  }
}
