import * as tf from '@tensorflow/tfjs-core'
import type { MoeConfig } from '../config'
import { customGradient } from '../ops'

/**
 * MoE routing decided on the device, for backends where a read-back stalls the GPU (or,
 * under Node, cannot be synchronous at all): top-k or top-p choice, capacity, and the
 * layer's statistics as tensor ops, nothing read to the host.
 *
 * The host plan (routing.ts) gives each expert exactly the rows it kept, which needs the
 * sizes on the host before the experts run. Here every expert gets a fixed number of slots
 * C (GShard's expert capacity): a slot holds one token or stays empty, and the experts run
 * as one batched matmul over (E, C, D). Same routing as the host plan (tested): the same
 * choice, and under a capacity the same kept tokens (the highest affinities).
 */
export interface DeviceRouting {
  /** Slots per expert. */
  capacity: number
  /** (E·C) the token in each slot, expert-major; an empty slot holds token 0. int32 */
  slots: tf.Tensor1D
  /** (E·C) 1 for a filled slot, 0 for an empty one (its gate weight becomes 0). */
  filled: tf.Tensor1D
  /** (N, E) 1 where a token chose the expert, before capacity. */
  chosen: tf.Tensor2D
  /** The layer's statistics, laid out as `tallyLayout` says. */
  tally: tf.Tensor1D
}

/**
 * The statistics of one MoE layer as one float32 vector (E experts), so that any number
 * of layers and micro-batches add up on the device and come back in one read:
 *   [load (E), chosenLoad (E), dropped, tokensWithoutExpert, chosen, entropySum, tokens]
 * `chosen` is the number of (token, expert) choices, `entropySum` the routing entropy
 * summed over tokens: means are these divided by `tokens` once added up.
 */
export const tallyLength = (E: number): number => 2 * E + 5

/**
 * Slots per expert: the capacity ⌈factor·N·k/E⌉ (routing.ts's), or N without a limit
 * (every token could pick the same expert). Never more than N: a token visits an expert once.
 */
export function slotsPerExpert(N: number, E: number, moe: MoeConfig): number {
  if (moe.capacityFactor === null) return N
  return Math.min(N, Math.ceil((moe.capacityFactor * N * moe.topK) / E))
}

/**
 * Route N rows from their affinities s (N, E) and the balancing bias (E) (DeepSeek-V3's,
 * added for the choice only). The decision is outside the gradient: tfjs has no TopK
 * gradient, and only the gate weights (gathered from s by the caller) are differentiable.
 */
export function routeOnDevice(
  s: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  moe: MoeConfig,
): DeviceRouting {
  const [N, E] = s.shape
  const C = slotsPerExpert(N, E, moe)
  // One packed float32 output: customGradient's value is a single tensor, and the ops
  // inside it are not taped, so TopK never meets the backward pass.
  const decide = customGradient(([scores, b]) => ({
    value: tf.tidy(() => decision(scores as tf.Tensor2D, bias ? (b as tf.Tensor1D) : null, moe, C)),
    gradFunc: () => [tf.zerosLike(scores), tf.zerosLike(b)],
  }))
  const parts = tf.tidy(() => {
    const packed = decide(s, bias ?? tf.zeros([E]))
    const [slots, filled, chosen, tally] = tf.split(
      packed,
      [E * C, E * C, N * E, tallyLength(E)],
      0,
    )
    return {
      slots: tf.cast(slots, 'int32') as tf.Tensor1D,
      filled: filled as tf.Tensor1D,
      chosen: tf.reshape<tf.Rank.R2>(chosen, [N, E]),
      tally: tally as tf.Tensor1D,
    }
  })
  return { capacity: C, ...parts }
}

/** The decision, packed: slots (E·C, as floats), filled (E·C), chosen (N·E), tally. */
function decision(s: tf.Tensor2D, bias: tf.Tensor1D | null, moe: MoeConfig, C: number): tf.Tensor {
  const [N, E] = s.shape
  const k = moe.topK
  const key = bias ? tf.add(s, bias) : s
  const picked = tf.oneHot(tf.topk(key, k).indices, E).toFloat() // (N, k, E), best first
  let take: tf.Tensor = tf.ones([N, k, 1])
  if (moe.routing === 'topp') {
    // The smallest prefix (best first) whose probability passes p: choice j is taken
    // while the probability of the choices before it is at most p (so the first always).
    const p = tf.sum(tf.mul(picked, tf.expandDims(s, 1)), -1) // (N, k)
    const before = tf.cumsum(p, 1, true) // exclusive
    take = tf.expandDims(tf.lessEqual(before, moe.topP).toFloat(), -1) // (N, k, 1)
  }
  const chosen = tf.sum(tf.mul(picked, take), 1) // (N, E), 0 or 1

  // Capacity: each expert keeps the C choosers of highest affinity. Affinities are ≥ 0,
  // so -1 marks a token that did not choose the expert; a slot holding one stays empty.
  const candidates = tf.transpose(tf.where(tf.greater(chosen, 0), s, tf.fill([N, E], -1))) // (E, N)
  const best = tf.topk(candidates, C) // (E, C)
  const isFilled = tf.greaterEqual(best.values, 0).toFloat() // (E, C)
  const filled = tf.reshape(isFilled, [E * C])
  const slots = tf.reshape(tf.mul(best.indices.toFloat(), isFilled), [E * C])

  const load = tf.sum(isFilled, 1) // (E)
  const chosenLoad = tf.sum(chosen, 0) // (E)
  const total = tf.sum(chosenLoad)
  const dropped = tf.sub(total, tf.sum(load))
  const kept = tf.unsortedSegmentSum(filled, slots.toInt() as tf.Tensor1D, N) // (N) experts kept per token
  const withoutExpert = tf.sum(tf.equal(kept, 0).toFloat())
  // Routing entropy of each token's distribution (sigmoid scores normalized first).
  const q = tf.div(s, tf.sum(s, -1, true))
  const plogp = tf.where(tf.greater(q, 0), tf.mul(q, tf.log(q)), tf.zerosLike(q))
  const entropySum = tf.neg(tf.sum(plogp))
  const tally = tf.concat([
    load,
    chosenLoad,
    tf.stack([dropped, withoutExpert, total, entropySum, tf.scalar(N)]),
  ])
  return tf.concat([slots, filled, tf.reshape(chosen, [N * E]), tally])
}
