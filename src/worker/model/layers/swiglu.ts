import * as tf from '@tensorflow/tfjs-core'
import type { Numerics } from '../numerics'
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
    const g = linear(x, w.gate, numerics) // (…, N, H)
    const u = linear(x, w.up, numerics) // (…, N, H)
    const h = tf.mul(tf.mul(g, tf.sigmoid(g)), u) // silu(g) ⊙ u
    return linear(h, w.down, numerics) as T
  })
}
