import type { MoeConfig } from '../config'

/**
 * Which experts each token visits, decided in JavaScript from the router's affinities
 * (read back once per MoE layer). tfjs has no TopK gradient; the choice is not
 * differentiable anyway, only the gate weights are, and those stay tensors (moe.ts).
 */
export interface RoutingPlan {
  /** Kept assignments in expert-major order: the token index of each. (A) */
  order: Int32Array
  /** token·E + expert for each kept assignment, to gather its affinity. (A) */
  flatIndex: Int32Array
  /** Kept assignments per expert, in expert order. (E) */
  expertSizes: Int32Array
  /** Every chosen (token, expert) pair before capacity: token·E + expert, and the token. */
  chosenFlat: Int32Array
  chosenToken: Int32Array
  /** Tokens each expert was chosen by, before capacity limits. (E) */
  chosenLoad: Int32Array
  /** Assignments dropped by the capacity limit; those tokens skip that expert. */
  dropped: number
  /** Tokens left with no expert at all (only the residual and shared experts). */
  tokensWithoutExpert: number
  /** Mean experts chosen per token (fixed k under top-k, varies under top-p). */
  meanExperts: number
  /** Capacity per expert, or null when unlimited. */
  capacity: number | null
}

/**
 * scores: (N, E) affinities (softmax probabilities or sigmoids). bias: (E), added for the
 * choice only (DeepSeek-V3's auxiliary-loss-free balancing). Ties break towards the
 * lower expert index, and capacity keeps the highest-affinity tokens (lower token index
 * on ties), so routing is deterministic.
 */
export function route(
  scores: Float32Array,
  N: number,
  E: number,
  moe: MoeConfig,
  bias?: Float32Array,
): RoutingPlan {
  const chosen: number[][] = Array.from({ length: E }, () => []) // tokens per expert
  const chosenFlat: number[] = []
  const chosenToken: number[] = []
  let totalChosen = 0
  const idx = new Int32Array(E)
  const key = new Float32Array(E)
  for (let t = 0; t < N; t++) {
    const row = t * E
    for (let e = 0; e < E; e++) {
      idx[e] = e
      key[e] = scores[row + e] + (bias ? bias[e] : 0)
    }
    // E is small (≤ 256): a full sort of indices by key is simple and cheap enough.
    const order = Array.from(idx).sort((a, b) => key[b] - key[a] || a - b)
    let take = moe.topK
    if (moe.routing === 'topp') {
      // The smallest prefix whose probability passes p, at least one, at most k_max.
      let cum = 0
      take = 0
      while (take < moe.topK && cum <= moe.topP) cum += scores[row + order[take++]]
    }
    for (let j = 0; j < take; j++) {
      const e = order[j]
      chosen[e].push(t)
      chosenFlat.push(row + e)
      chosenToken.push(t)
    }
    totalChosen += take
  }

  const capacity =
    moe.capacityFactor === null ? null : Math.ceil((moe.capacityFactor * N * moe.topK) / E)
  const expertSizes = new Int32Array(E)
  const chosenLoad = new Int32Array(E)
  const kept: number[][] = []
  let dropped = 0
  const experts = new Int32Array(N) // experts kept per token
  for (let e = 0; e < E; e++) {
    let tokens = chosen[e]
    chosenLoad[e] = tokens.length
    if (capacity !== null && tokens.length > capacity) {
      // Keep the tokens with the highest affinity for this expert.
      tokens = [...tokens]
        .sort((a, b) => scores[b * E + e] - scores[a * E + e] || a - b)
        .slice(0, capacity)
        .sort((a, b) => a - b)
      dropped += chosen[e].length - capacity
    }
    kept.push(tokens)
    expertSizes[e] = tokens.length
    for (const t of tokens) experts[t]++
  }
  const A = expertSizes.reduce((a, b) => a + b, 0)
  const order = new Int32Array(A)
  const flatIndex = new Int32Array(A)
  let a = 0
  for (let e = 0; e < E; e++) {
    for (const t of kept[e]) {
      order[a] = t
      flatIndex[a] = t * E + e
      a++
    }
  }
  let tokensWithoutExpert = 0
  for (let t = 0; t < N; t++) if (experts[t] === 0) tokensWithoutExpert++
  return {
    order,
    flatIndex,
    expertSizes,
    chosenFlat: Int32Array.from(chosenFlat),
    chosenToken: Int32Array.from(chosenToken),
    chosenLoad,
    dropped,
    tokensWithoutExpert,
    meanExperts: N ? totalChosen / N : 0,
    capacity,
  }
}

/** Mean entropy (nats) of each token's routing distribution; sigmoid scores are normalized first. */
export function routerEntropy(scores: Float32Array, N: number, E: number): number {
  let total = 0
  for (let t = 0; t < N; t++) {
    let sum = 0
    for (let e = 0; e < E; e++) sum += scores[t * E + e]
    let h = 0
    for (let e = 0; e < E; e++) {
      const p = scores[t * E + e] / sum
      if (p > 0) h -= p * Math.log(p)
    }
    total += h
  }
  return N ? total / N : 0
}
