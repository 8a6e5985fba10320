import * as tf from '@tensorflow/tfjs-core'
import type { MoeConfig } from '../config'
import type { Numerics } from '../numerics'
import { gatherRows, scatterAddRows } from '../ops'
import { readsSync } from '../../kernels/host-views'
import { route, routerEntropy, type RoutingPlan } from './routing'
import { swiglu, type SwigluWeights } from './swiglu'

export interface MoeWeights {
  router: tf.Tensor2D // (D, E)
  routerBias: tf.Tensor1D // (E), not trained by gradient
  experts: SwigluWeights[] // gate, up (D, h), down (h, D)
  shared: SwigluWeights | null
}

/** What one MoE layer did in one forward pass: for metrics and for bias balancing. */
export interface MoeStats {
  /** Assignments each expert processed (after capacity). */
  load: Int32Array
  /** Tokens that chose each expert (before capacity): what balancing acts on. */
  chosenLoad: Int32Array
  dropped: number
  tokensWithoutExpert: number
  meanExperts: number
  entropy: number
  tokens: number
}

export interface MoeOutput {
  y: tf.Tensor2D
  /** The balancing and entropy losses of this layer (already weighted), or null. */
  aux: tf.Scalar | null
  stats: MoeStats
}

/** A layer's routing decided on the host: which experts each token visits, and what it did. */
export interface Routed {
  plan: RoutingPlan
  stats: MoeStats
}

/**
 * The router's affinities for rows x: (N, D) -> (N, E), softmax probabilities or sigmoids.
 * The gate stays in float32 (DeepSeek-V3 keeps gating out of FP8).
 */
export function affinities(x: tf.Tensor2D, router: tf.Tensor2D, cfg: MoeConfig): tf.Tensor2D {
  return tf.tidy(() => {
    const logits = tf.matMul<tf.Tensor2D>(x, router) // (N, E)
    return cfg.affinity === 'softmax' ? tf.softmax(logits) : tf.sigmoid(logits)
  })
}

/** Route N rows from their affinities (N·E, row-major) read back to the host. */
export function routeScores(
  scores: Float32Array,
  bias: Float32Array | undefined,
  N: number,
  E: number,
  cfg: MoeConfig,
): Routed {
  const plan = route(scores, N, E, cfg, bias)
  return {
    plan,
    stats: {
      load: plan.expertSizes,
      chosenLoad: plan.chosenLoad,
      dropped: plan.dropped,
      tokensWithoutExpert: plan.tokensWithoutExpert,
      meanExperts: plan.meanExperts,
      entropy: routerEntropy(scores, N, E),
      tokens: N,
    },
  }
}

/**
 * The routing of rows x, read back asynchronously: what a backend without synchronous
 * reads (webgpu) does before a pass that needs the plan (moe's `routed`). With the
 * affinities it was decided from, (N·E) row-major (Inspect shows the gate weights).
 */
export async function routeAsync(
  x: tf.Tensor2D,
  w: MoeWeights,
  cfg: MoeConfig,
): Promise<Routed & { scores: Float32Array }> {
  const s = affinities(x, w.router, cfg)
  try {
    const [scores, bias] = await Promise.all([
      s.data() as Promise<Float32Array>,
      cfg.balance === 'aux-free' ? (w.routerBias.data() as Promise<Float32Array>) : undefined,
    ])
    return { ...routeScores(scores, bias, x.shape[0], w.experts.length, cfg), scores }
  } finally {
    s.dispose()
  }
}

/**
 * DeepSeekMoE feed-forward: y = Σ shared(x) + Σᵢ gᵢ·expertᵢ(x) over the routed experts.
 * Sparse dispatch: tokens are gathered into expert order, each expert runs on its own
 * rows only, and results are scattered back (summing a token's k contributions), so the
 * compute grows with the active experts, not the total.
 *   x: (N, D) with N = B·T (rows in sequence order)  ->  (N, D)
 *
 * `routed`: the routing, decided before (routeAsync) from these very rows. Without it the
 * affinities are read back here, synchronously, which only CPU backends can do.
 */
export function moe(
  x: tf.Tensor2D,
  w: MoeWeights,
  cfg: MoeConfig,
  B: number,
  numerics: Numerics,
  routed?: Routed | null,
): MoeOutput {
  const [N] = x.shape
  const E = w.experts.length
  const k = cfg.topK
  // The gate weights are differentiable with respect to the router: computed on the tape
  // in either case.
  const s = affinities(x, w.router, cfg) // (N, E)
  if (!routed) {
    if (!readsSync()) {
      throw new Error(
        `MoE routing needs its plan decided beforehand on the ${tf.getBackend()} backend (routeAsync).`,
      )
    }
    const bias = cfg.balance === 'aux-free' ? (w.routerBias.dataSync() as Float32Array) : undefined
    routed = routeScores(s.dataSync() as Float32Array, bias, N, E, cfg)
  }
  const { plan, stats } = routed

  let aux: tf.Scalar | null = null
  const y = tf.tidy(() => {
    const sFlat = tf.reshape(s, [N * E])
    const orderT = tf.tensor1d(plan.order, 'int32')
    // Gate weights, differentiable with respect to the router.
    let gate = gatherRows(sFlat, tf.tensor1d(plan.flatIndex, 'int32')) // (A)
    const normalize = cfg.routing === 'topk' && cfg.normalizeWeights && k > 1
    if (normalize) {
      // Normalize over all chosen experts, dropped ones included, so a capacity drop
      // removes a contribution rather than inflating the others.
      const chosenToken = tf.tensor1d(plan.chosenToken, 'int32')
      const all = gatherRows(sFlat, tf.tensor1d(plan.chosenFlat, 'int32')) // (A_all)
      const denom = scatterAddRows(all, chosenToken, N) // (N)
      gate = tf.div(gate, gatherRows(denom, orderT))
    }
    if (cfg.routeScale !== 1) gate = tf.mul(gate, cfg.routeScale)

    let y: tf.Tensor2D = tf.zerosLike(x)
    if (plan.order.length > 0) {
      const xs = gatherRows(x, orderT) as tf.Tensor2D // (A, D) in expert order
      const active = Array.from(plan.expertSizes.entries()).filter(([, n]) => n > 0)
      const parts = tf.split<tf.Tensor2D>(
        xs,
        active.map(([, n]) => n),
        0,
      )
      const outs = parts.map((part, i) => {
        return swiglu(part, w.experts[active[i][0]], numerics)
      })
      const ys = outs.length === 1 ? outs[0] : tf.concat(outs, 0) // (A, D)
      const weighted = tf.mul(ys, tf.reshape(gate, [-1, 1]))
      y = scatterAddRows(weighted, orderT, N) as tf.Tensor2D
    }
    if (w.shared) y = tf.add<tf.Tensor2D>(y, swiglu(x, w.shared, numerics))

    const a = auxLosses(s, plan, cfg, E, B)
    if (a) aux = tf.keep(a)
    return y
  })
  s.dispose()
  return { y, aux, stats }
}

/** Balancing and entropy losses, weighted, summed; null when none applies. */
function auxLosses(
  s: tf.Tensor2D,
  plan: ReturnType<typeof route>,
  cfg: MoeConfig,
  E: number,
  B: number,
): tf.Scalar | null {
  const N = s.shape[0]
  const losses: tf.Scalar[] = []
  // Normalized affinities: softmax already sums to 1; sigmoid scores are divided by their sum.
  const p = cfg.affinity === 'softmax' ? s : tf.div(s, tf.sum(s, -1, true))
  if (cfg.balance === 'aux' && cfg.auxLossWeight > 0) {
    // Switch: α·E·Σ fᵢ·Pᵢ, fᵢ the share of assignments choosing i, Pᵢ its mean probability.
    const f = tf.tensor1d(
      Float32Array.from(plan.chosenLoad, (c) => c / Math.max(1, plan.chosenFlat.length)),
    )
    losses.push(tf.mul(cfg.auxLossWeight * E, tf.sum(tf.mul(f, tf.mean(p, 0)))))
  }
  if (cfg.balance === 'aux-free' && cfg.sequenceAuxWeight > 0) {
    // DeepSeek-V3's sequence-wise loss: α Σ fᵢ·Pᵢ per sequence, fᵢ = E/(k·T)·(tokens choosing i).
    const T = N / B
    const f = new Float32Array(B * E)
    for (let j = 0; j < plan.chosenFlat.length; j++) {
      const t = plan.chosenToken[j]
      const e = plan.chosenFlat[j] - t * E
      f[Math.floor(t / T) * E + e] += E / (cfg.topK * T)
    }
    const P = tf.mean(tf.reshape(p, [B, T, E]), 1) // (B, E)
    losses.push(
      tf.mul(cfg.sequenceAuxWeight, tf.mean(tf.sum(tf.mul(tf.tensor2d(f, [B, E]), P), 1))),
    )
  }
  if (cfg.routing === 'topp' && cfg.entropyLossWeight > 0) {
    // Lower routing entropy, so top-p cannot activate many experts by spreading probability.
    const ent = tf.neg(tf.mean(tf.sum(tf.mul(s, tf.log(tf.add(s, 1e-9))), -1)))
    losses.push(tf.mul(cfg.entropyLossWeight, ent))
  }
  if (losses.length === 0) return null
  return losses.reduce((a, b) => tf.add<tf.Scalar>(a, b))
}
