import * as tf from '@tensorflow/tfjs-core'
import type { Numerics } from '../numerics'
import { applyRope, type RopeTables } from './rope'

export interface AttentionShape {
  B: number
  T: number
  heads: number
  headWidth: number
}

/**
 * Additive attention mask (T, T): 0 where query i may see key j, -1e9 elsewhere. Causal,
 * optionally limited to a sliding window of `window` keys, with the first `globalTokens`
 * positions visible to every later query (local attention plus global tokens). Built
 * once as a constant: tfjs's bandPart has no working gradient.
 */
export function attentionMask(T: number, window: number | null, globalTokens: number): tf.Tensor2D {
  const m = new Float32Array(T * T)
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const visible = j <= i && (window === null || i - j < window || j < globalTokens)
      m[i * T + j] = visible ? 0 : -1e9
    }
  }
  return tf.tensor2d(m, [T, T])
}

/**
 * Causal multi-head self-attention with rotary positions (tables tiled to B·T rows).
 *   x: (B·T, D), w.q, w.k, w.v, w.out: (D, D)  ->  (B·T, D)
 * The 1/√hs softmax scale is folded into q's rotary tables.
 */
export interface AttentionWeights {
  q: tf.Tensor2D
  k: tf.Tensor2D
  v: tf.Tensor2D
  out: tf.Tensor2D
}

export function attention(
  x: tf.Tensor2D,
  w: AttentionWeights,
  shape: AttentionShape,
  ropeQ: RopeTables,
  ropeK: RopeTables,
  mask: tf.Tensor2D,
  numerics: Numerics,
): tf.Tensor2D {
  const { B, T, heads: H, headWidth: hs } = shape
  return tf.tidy(() => {
    const q = applyRope(numerics.matmul(x, w.q) as tf.Tensor2D, ropeQ, hs) // (B·T, D)
    const k = applyRope(numerics.matmul(x, w.k) as tf.Tensor2D, ropeK, hs) // (B·T, D)
    const v0 = numerics.matmul(x, w.v) as tf.Tensor2D // (B·T, D)
    const toHeads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, T, H, hs]), [0, 2, 1, 3]) // (B, H, T, hs)
    const qh = toHeads(q)
    const kT = tf.transpose(tf.reshape(k, [B, T, H, hs]), [0, 2, 3, 1]) // (B, H, hs, T)
    const vh = toHeads(v0)
    const scores = tf.add(numerics.matmul(qh, kT), mask) // (B, H, T, T)
    const probs = tf.softmax(scores) // (B, H, T, T)
    const out = numerics.matmul(probs, vh) // (B, H, T, hs)
    const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B * T, H * hs]) // (B·T, D)
    return numerics.matmul(merged, w.out) as tf.Tensor2D
  })
}
