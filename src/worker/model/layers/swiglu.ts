import * as tf from '@tensorflow/tfjs-core'
import type { Numerics } from '../numerics'

/**
 * A SwiGLU block's weights: gate and up (D, H), down (H, D); or a stack of E experts'
 * weights, (E, D, H) and (E, H, D), for E batches of rows at once.
 */
export interface SwigluWeights {
  gate: tf.Tensor
  up: tf.Tensor
  down: tf.Tensor
}

/**
 * SwiGLU feed-forward (Shazeer 2020): down(silu(x·W_gate) ⊙ x·W_up).
 *   x: (N, D)  ->  (N, D), or with stacked weights (E, C, D)  ->  (E, C, D)
 */
export function swiglu<T extends tf.Tensor>(x: T, w: SwigluWeights, numerics: Numerics): T {
  return tf.tidy(() => {
    const g = numerics.matmul(x, w.gate) // (…, N, H)
    const u = numerics.matmul(x, w.up) // (…, N, H)
    const h = tf.mul(tf.mul(g, tf.sigmoid(g)), u) // silu(g) ⊙ u
    return numerics.matmul(h, w.down) as T
  })
}
