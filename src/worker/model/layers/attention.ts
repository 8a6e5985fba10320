import * as tf from '@tensorflow/tfjs-core'
import { hasFusedKernel } from '../../kernels/fused'
import {
  ATTENTION,
  ATTENTION_GRAD_K,
  ATTENTION_GRAD_Q,
  ATTENTION_GRAD_V,
  ATTENTION_STATS,
  attentionHeadWidthFits,
} from '../../kernels/webgpu-attention'
import { withSharedInput, type ActivationStore, type Numerics } from '../numerics'
import { addBias, customGradient, transposeLast2 } from '../ops'
import { linear, type Weight } from './linear'
import { rmsNorm } from './rmsnorm'
import { applyRope, type RopeTables } from './rope'

export interface AttentionShape {
  B: number
  T: number
  heads: number
  /** Key/value heads (grouped-query attention): each serves heads / kvHeads query heads. */
  kvHeads: number
  headWidth: number
  /**
   * The sliding window the mask applies, if any: a fused kernel then skips the keys no
   * query can see. Only where the mask is attentionMask's (T, L) one; the mask decides.
   */
  window?: { size: number; globalTokens: number } | null
}

/**
 * Additive attention mask (T, offset + T) for T queries at positions offset…offset+T-1
 * over every key up to the last of them: 0 where a query may see the key, -1e9 elsewhere.
 * Causal, optionally limited to a sliding window of `window` keys, with the first
 * `globalTokens` positions visible to every later query (local attention plus global
 * tokens). offset > 0 is decoding after `offset` cached tokens. Built as a constant: tfjs's
 * bandPart has no working gradient.
 */
export function attentionMask(
  T: number,
  window: number | null,
  globalTokens: number,
  offset = 0,
): tf.Tensor2D {
  const L = offset + T
  const m = new Float32Array(T * L)
  for (let i = 0; i < T; i++) {
    const pos = offset + i
    for (let j = 0; j < L; j++) {
      const visible = j <= pos && (window === null || pos - j < window || j < globalTokens)
      m[i * L + j] = visible ? 0 : -1e9
    }
  }
  return tf.tensor2d(m, [T, L])
}

export interface AttentionWeights {
  q: Weight
  k: Weight
  v: Weight
  out: Weight
  /** Biases of q (H·hs) and of k and v (Hkv·hs), when the model has them (Qwen2). */
  bias?: { q: tf.Tensor1D; k: tf.Tensor1D; v: tf.Tensor1D }
  /** QK-norm (Qwen3): RMSNorm weights (hs) for every head's queries and keys, and its ε. */
  norm?: { q: tf.Tensor1D; k: tf.Tensor1D; eps: number }
}

export interface AttentionExtras {
  /**
   * Decoding with a key/value cache (B = 1): given this pass's keys and values (T, D),
   * returns them after the cached ones, (L, D). The mask is then (T, L).
   */
  past?: (k: tf.Tensor2D, v: tf.Tensor2D) => [tf.Tensor2D, tf.Tensor2D]
  /** Sees the attention probabilities (B, H, T, L), inside the pass's tidy (keep to hold). */
  probs?: (p: tf.Tensor) => void
}

/**
 * Causal multi-head self-attention with rotary positions (tables for the B·T rows), with
 * grouped-query attention when there are fewer key/value heads than query heads (query
 * head h reads key/value head ⌊h / (H/Hkv)⌋, as Hugging Face's repeat_kv arranges them).
 *   x: (B·T, D), w.q: (D, H·hs), w.k, w.v: (D, Hkv·hs), w.out: (H·hs, D)  ->  (B·T, D)
 * The 1/√hs softmax scale is folded into q's rotary tables.
 */
export function attention(
  x: tf.Tensor2D,
  w: AttentionWeights,
  shape: AttentionShape,
  ropeQ: RopeTables,
  ropeK: RopeTables,
  /** Additive: (T, L) for every row alike, or (B, 1, T, L) per row (packed sequences). */
  mask: tf.Tensor,
  numerics: Numerics,
  extras: AttentionExtras = {},
): tf.Tensor2D {
  const { B, T, heads: H, kvHeads: Hkv, headWidth: hs } = shape
  return tf.tidy(() => {
    // The bias joins before the rotation, as in Qwen2 (it is part of the projection).
    const project = (m: Weight, b: tf.Tensor1D | undefined) => {
      const y = linear(x, m, numerics) as tf.Tensor2D
      return b ? addBias(y, b) : y
    }
    // QK-norm normalizes each head's vector over its hs dims, before the rotation (Qwen3).
    const perHead = (t: tf.Tensor2D, g: tf.Tensor1D | undefined): tf.Tensor2D =>
      g ? tf.reshape(rmsNorm(tf.reshape(t, [-1, hs]), g, w.norm!.eps, numerics.saved), t.shape) : t
    // The three products read x: one copy of it kept for their backward (16-bit runs).
    const [q1, k1, v0] = withSharedInput(numerics, x, () => [
      project(w.q, w.bias?.q), // (B·T, H·hs)
      project(w.k, w.bias?.k), // (B·T, Hkv·hs)
      project(w.v, w.bias?.v), // (B·T, Hkv·hs)
    ])
    const q = applyRope(perHead(q1, w.norm?.q), ropeQ, hs) // (B·T, H·hs)
    const k0 = applyRope(perHead(k1, w.norm?.k), ropeK, hs) // (B·T, Hkv·hs)
    const [k, v] = extras.past ? extras.past(k0, v0) : [k0, v0] // (B·L, Hkv·hs)
    const fusable = numerics.attentionInputs
    if (!extras.probs && fusable && attentionHeadWidthFits(hs) && hasFusedKernel(ATTENTION)) {
      const merged = fusedAttention(fusable(q), fusable(k), fusable(v), mask, shape, numerics.saved) // (B·T, H·hs)
      return linear(merged, w.out, numerics) as tf.Tensor2D
    }
    const L = k.shape[0] / B
    const toHeads = (t: tf.Tensor2D, n: number, heads: number) =>
      tf.transpose(tf.reshape(t, [B, n, heads, hs]), [0, 2, 1, 3]) // (B, heads, n, hs)
    // Each key/value head repeated for the H/Hkv query heads of its group (a gather along
    // the head axis: tfjs has no gradient for the rank-5 tile that repeat_kv would be).
    const group = H / Hkv
    const grouped = (t: tf.Tensor) =>
      Hkv === H
        ? t
        : tf.gather(
            t,
            Int32Array.from({ length: H }, (_, h) => Math.floor(h / group)),
            1,
          )
    const qh = toHeads(q, T, H)
    const kT = transposeLast2(grouped(toHeads(k, L, Hkv))) // (B, H, hs, L)
    const vh = grouped(toHeads(v, L, Hkv)) // (B, H, L, hs)
    const scores = tf.add(numerics.matmul(qh, kT), mask) // (B, H, T, L)
    const probs = tf.softmax(scores) // (B, H, T, L)
    extras.probs?.(probs)
    const out = numerics.matmul(probs, vh) // (B, H, T, hs)
    const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B * T, H * hs]) // (B·T, H·hs)
    return linear(merged, w.out, numerics) as tf.Tensor2D
  })
}

/**
 * softmax(q·kᵀ + mask)·v per head in the backend's fused kernels (webgpu,
 * kernels/webgpu-attention.ts): no T×L matrix is made or kept, and q, k, v stay in the
 * projections' layout. The backward recomputes the probabilities tile by tile. `store`
 * says how q, k, v and the output are kept for it (numerics.saved: 16 bits in bf16/fp16
 * runs, as a 16-bit flash-attention kernel keeps them; float32 when absent).
 *   q (B·T, H·hs), k, v (B·L, Hkv·hs), mask (T, L) or (B, 1, T, L)  ->  (B·T, H·hs)
 */
function fusedAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  mask: tf.Tensor,
  shape: AttentionShape,
  store?: ActivationStore,
): tf.Tensor2D {
  const attrs = {
    B: shape.B,
    heads: shape.heads,
    kvHeads: shape.kvHeads,
    headWidth: shape.headWidth,
    window: shape.window?.size ?? 0,
    globalTokens: shape.window?.globalTokens ?? 0,
  }
  const run = (name: string, inputs: tf.NamedTensorMap) =>
    tf.engine().runKernel<tf.Tensor2D>(name, inputs, attrs)
  const op = customGradient<tf.Tensor2D>(([qi, ki, vi], save) => {
    const out = run(ATTENTION, { q: qi, k: ki, v: vi, mask })
    const keep = (t: tf.Tensor) => (store ? store.keep(t) : t)
    save([keep(qi), keep(ki), keep(vi), keep(out), mask])
    return {
      value: out,
      gradFunc: (dout, saved) => {
        const [qs, ks, vs, os] = [qi, ki, vi, out].map((t, i) =>
          store ? (store.restore(saved[i], t.shape) as tf.Tensor2D) : saved[i],
        )
        const ms = saved[4]
        const stats = run(ATTENTION_STATS, { q: qs, k: ks, mask: ms, out: os, dout }) // (B·H·T, 2)
        const inputs = { q: qs, k: ks, v: vs, mask: ms, dout, stats }
        return [
          run(ATTENTION_GRAD_Q, inputs),
          run(ATTENTION_GRAD_K, inputs),
          run(ATTENTION_GRAD_V, { q: qs, k: ks, mask: ms, dout, stats }),
        ]
      },
    }
  })
  return op(q, k, v)
}
