import * as tf from '@tensorflow/tfjs-core'
import type { Numerics } from '../numerics'

/** A SwiGLU block's weights: gate and up (D, H), down (H, D). */
export interface SwigluWeights {
  gate: tf.Tensor2D
  up: tf.Tensor2D
  down: tf.Tensor2D
}

/**
 * SwiGLU feed-forward (Shazeer 2020): down(silu(x·W_gate) ⊙ x·W_up).
 *   x: (N, D)  ->  (N, D)
 */
export function swiglu(x: tf.Tensor2D, w: SwigluWeights, numerics: Numerics): tf.Tensor2D {
  return tf.tidy(() => {
    const g = numerics.matmul(x, w.gate) // (N, H)
    const u = numerics.matmul(x, w.up) // (N, H)
    const h = tf.mul(tf.mul(g, tf.sigmoid(g)), u) // silu(g) ⊙ u
    return numerics.matmul(h, w.down) as tf.Tensor2D
  })
}
