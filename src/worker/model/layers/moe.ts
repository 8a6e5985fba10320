import * as tf from '@tensorflow/tfjs-core'
import type { MoeConfig } from '../config'
import type { Numerics } from '../numerics'
import { gatherRows, residual, scatterAddRows } from '../ops'
import { readsSync } from '../../kernels/host-views'
import { routeOnDevice } from './device-routing'
import { route, routerEntropy, type RoutingPlan } from './routing'
import { stackWeights } from './linear'
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

/**
 * A layer's statistics as the pass left them: known on the host (host routing), or a tally
 * on the device (device routing: see device-routing.ts for the layout), read back later
 * together with the step's other figures (`statsOfTally`).
 */
export type MoeReport = MoeStats | tf.Tensor1D

export interface MoeOutput {
  y: tf.Tensor2D
  /** The balancing and entropy losses of this layer (already weighted), or null. */
  aux: tf.Scalar | null
  stats: MoeReport
}

/** A layer's routing decided on the host: which experts each token visits, and what it did. */
export interface Routed {
  plan: RoutingPlan
  stats: MoeStats
  /** The affinities it was decided from, (N·E) row-major (Inspect shows the gate weights). */
  scores: Float32Array
}

/**
 * How an MoE layer routes: by a plan decided beforehand on the host (Routed), on the
 * device ('device'), or, when null, by reading its affinities back synchronously (CPU
 * backends only).
 */
export type Routing = Routed | 'device' | null

/**
 * Whether passes of a model with this MoE config route on the device: on backends that
 * cannot read synchronously (a GPU, where every read-back stalls it), when experts have a
 * capacity. CPU backends keep the host plan, which gives each expert exactly its rows and
 * is faster there; so does a pass without a capacity (inference, perplexity, a teacher),
 * where fixed slots would have to hold every token for every expert.
 */
export const routesOnDeviceFor = (cfg: MoeConfig): boolean =>
  !readsSync() && cfg.capacityFactor !== null

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
    scores,
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
 * reads does before a pass that follows a host plan (inference, which has no capacity and
 * wants each expert's exact rows).
 */
export async function routeAsync(x: tf.Tensor2D, w: MoeWeights, cfg: MoeConfig): Promise<Routed> {
  const s = affinities(x, w.router, cfg)
  try {
    const [scores, bias] = await Promise.all([
      s.data() as Promise<Float32Array>,
      cfg.balance === 'aux-free' ? (w.routerBias.data() as Promise<Float32Array>) : undefined,
    ])
    return routeScores(scores, bias, x.shape[0], w.experts.length, cfg)
  } finally {
    s.dispose()
  }
}

/**
 * Where each assignment (a token's visit to an expert) goes, whichever side decided it.
 * Assignments are in expert-major order.
 */
interface Dispatch {
  /** (A) the token of each assignment. int32 */
  rows: tf.Tensor1D
  /** (A) token·E + expert of each: where its gate weight is in the flat affinities. int32 */
  gateIndex: tf.Tensor1D
  /** (A) 1 for an assignment that counts, 0 for an empty slot; null when all count. */
  filled: tf.Tensor1D | null
  /** (N, E) 1 where a token chose the expert, before capacity. */
  chosen: tf.Tensor2D
  /** The routed experts over the dispatched rows: (A, D) -> (A, D). */
  experts(xs: tf.Tensor2D): tf.Tensor2D
  stats: MoeReport
}

/**
 * DeepSeekMoE feed-forward: y = Σ shared(x) + Σᵢ gᵢ·expertᵢ(x) over the routed experts.
 * Sparse dispatch: tokens are gathered into expert order, the experts run on those rows
 * only, and results are scattered back (summing a token's k contributions), so the
 * compute grows with the active experts, not the total.
 *   x: (N, D) with N = B·T (rows in sequence order)  ->  (N, D)
 *
 * `routing`: see Routing. Under 'device' the returned stats are a tally on the device.
 */
export function moe(
  x: tf.Tensor2D,
  w: MoeWeights,
  cfg: MoeConfig,
  B: number,
  numerics: Numerics,
  routing: Routing = null,
): MoeOutput {
  const [N] = x.shape
  const E = w.experts.length
  // The gate weights are differentiable with respect to the router: computed on the tape
  // in every case.
  const s = affinities(x, w.router, cfg) // (N, E)
  let aux: tf.Scalar | null = null
  let stats: MoeReport | null = null
  const y = tf.tidy(() => {
    const d =
      routing === 'device'
        ? deviceDispatch(s, w, cfg, numerics)
        : hostDispatch(s, w, numerics, routing ?? routeNow(s, w, cfg))
    stats = d.stats instanceof tf.Tensor ? tf.keep(d.stats) : d.stats
    const sFlat = tf.reshape(s, [N * E])
    // Gate weights, differentiable with respect to the router. (A)
    let gate = gatherRows(sFlat, d.gateIndex)
    if (d.filled) gate = tf.mul(gate, d.filled)
    if (cfg.routing === 'topk' && cfg.normalizeWeights && cfg.topK > 1) {
      // Normalize over all chosen experts, dropped ones included, so a capacity drop
      // removes a contribution rather than inflating the others.
      const denom = tf.sum(tf.mul(s, d.chosen), -1) // (N), > 0: every token chose k experts
      gate = tf.div(gate, gatherRows(denom, d.rows))
    }
    if (cfg.routeScale !== 1) gate = tf.mul(gate, cfg.routeScale)

    let y: tf.Tensor2D = tf.zerosLike(x)
    if (d.rows.size > 0) {
      let xs = gatherRows(x, d.rows) as tf.Tensor2D // (A, D) in expert order
      // Empty slots run as zero rows (their output is discarded anyway): nothing of
      // another token's in an expert's batch (QAT sizes its int8 grid from the batch).
      if (d.filled) xs = tf.mul(xs, tf.reshape(d.filled, [-1, 1]))
      const weighted = tf.mul(d.experts(xs), tf.reshape(gate, [-1, 1]))
      y = scatterAddRows(weighted, d.rows, N) as tf.Tensor2D
    }
    // The shared expert joins as a residual branch does: nothing kept for the backward.
    if (w.shared) y = residual(y, swiglu(x, w.shared, numerics))

    const a = auxLosses(s, d.chosen, cfg, B)
    if (a) aux = tf.keep(a)
    return y
  })
  s.dispose()
  return { y, aux, stats: stats! }
}

/** The host plan of rows s, read back synchronously: CPU backends only. */
function routeNow(s: tf.Tensor2D, w: MoeWeights, cfg: MoeConfig): Routed {
  if (!readsSync()) {
    throw new Error(
      `MoE routing on the ${tf.getBackend()} backend is decided on the device or beforehand (routeAsync).`,
    )
  }
  const [N, E] = s.shape
  const bias = cfg.balance === 'aux-free' ? (w.routerBias.dataSync() as Float32Array) : undefined
  return routeScores(s.dataSync() as Float32Array, bias, N, E, cfg)
}

/** A host plan: each expert runs on exactly the rows it kept (A ≤ N·k). In a tidy. */
function hostDispatch(
  s: tf.Tensor2D,
  w: MoeWeights,
  numerics: Numerics,
  { plan, stats }: Routed,
): Dispatch {
  const [N, E] = s.shape
  const chosen = new Float32Array(N * E)
  for (const flat of plan.chosenFlat) chosen[flat] = 1
  const active = Array.from(plan.expertSizes.entries()).filter(([, n]) => n > 0)
  return {
    rows: tf.tensor1d(plan.order, 'int32'),
    gateIndex: tf.tensor1d(plan.flatIndex, 'int32'),
    filled: null,
    chosen: tf.tensor2d(chosen, [N, E]),
    experts: (xs) => {
      const parts = tf.split<tf.Tensor2D>(
        xs,
        active.map(([, n]) => n),
        0,
      )
      const outs = parts.map((part, i) => swiglu(part, w.experts[active[i][0]], numerics))
      return outs.length === 1 ? outs[0] : tf.concat(outs, 0) // (A, D)
    },
    stats,
  }
}

/**
 * Device routing: E·C slots, the experts as one batched SwiGLU over (E, C, D), their
 * weights stacked per step (E, D, h). In a tidy.
 */
function deviceDispatch(
  s: tf.Tensor2D,
  w: MoeWeights,
  cfg: MoeConfig,
  numerics: Numerics,
): Dispatch {
  const E = s.shape[1]
  const r = routeOnDevice(s, cfg.balance === 'aux-free' ? w.routerBias : null, cfg)
  const C = r.capacity
  // Slot j of expert e reads its gate weight at token·E + e.
  const expertOfSlot = tf.tensor1d(
    Int32Array.from({ length: E * C }, (_, j) => Math.floor(j / C)),
    'int32',
  )
  const stacked: SwigluWeights = {
    gate: stackWeights(w.experts.map((e) => e.gate)), // (E, D, h)
    up: stackWeights(w.experts.map((e) => e.up)), // (E, D, h)
    down: stackWeights(w.experts.map((e) => e.down)), // (E, h, D)
  }
  return {
    rows: r.slots,
    gateIndex: tf.add(tf.mul(r.slots, tf.scalar(E, 'int32')), expertOfSlot),
    filled: r.filled,
    chosen: r.chosen,
    experts: (xs) => {
      const D = xs.shape[1]
      const ys = swiglu(tf.reshape(xs, [E, C, D]), stacked, numerics) // (E, C, D)
      return tf.reshape(ys, [E * C, D])
    },
    stats: r.tally,
  }
}

/**
 * Balancing and entropy losses, weighted, summed; null when none applies.
 *   s: (N, E) affinities, chosen: (N, E) 1 where a token chose the expert.
 */
function auxLosses(
  s: tf.Tensor2D,
  chosen: tf.Tensor2D,
  cfg: MoeConfig,
  B: number,
): tf.Scalar | null {
  const [N, E] = s.shape
  const losses: tf.Scalar[] = []
  // Normalized affinities: softmax already sums to 1; sigmoid scores are divided by their sum.
  const p = cfg.affinity === 'softmax' ? s : tf.div(s, tf.sum(s, -1, true))
  if (cfg.balance === 'aux' && cfg.auxLossWeight > 0) {
    // Switch: α·E·Σ fᵢ·Pᵢ, fᵢ the share of assignments choosing i, Pᵢ its mean probability.
    const load = tf.sum(chosen, 0) // (E)
    const f = tf.div(load, tf.maximum(tf.sum(load), 1))
    losses.push(tf.mul(cfg.auxLossWeight * E, tf.sum(tf.mul(f, tf.mean(p, 0)))))
  }
  if (cfg.balance === 'aux-free' && cfg.sequenceAuxWeight > 0) {
    // DeepSeek-V3's sequence-wise loss: α Σ fᵢ·Pᵢ per sequence, fᵢ = E/(k·T)·(tokens choosing i).
    const T = N / B
    const f = tf.mul(tf.sum(tf.reshape(chosen, [B, T, E]), 1), E / (cfg.topK * T)) // (B, E)
    const P = tf.mean(tf.reshape(p, [B, T, E]), 1) // (B, E)
    losses.push(tf.mul(cfg.sequenceAuxWeight, tf.mean(tf.sum(tf.mul(f, P), 1))))
  }
  if (cfg.routing === 'topp' && cfg.entropyLossWeight > 0) {
    // Lower routing entropy, so top-p cannot activate many experts by spreading probability.
    const ent = tf.neg(tf.mean(tf.sum(tf.mul(s, tf.log(tf.add(s, 1e-9))), -1)))
    losses.push(tf.mul(cfg.entropyLossWeight, ent))
  }
  if (losses.length === 0) return null
  return losses.reduce((a, b) => tf.add<tf.Scalar>(a, b))
}

/**
 * DeepSeek-V3's auxiliary-loss-free balancing: after each step, lower the bias of every
 * overloaded expert by γ and raise every underloaded one by γ. On the device: the bias is
 * never read back. bias, load: (E) -> (E)
 */
export function rebalancedBias(bias: tf.Tensor1D, load: tf.Tensor1D, rate: number): tf.Tensor1D {
  return tf.tidy(() => tf.sub(bias, tf.mul(tf.sign(tf.sub(load, tf.mean(load))), rate)))
}

/** A tally's values (device-routing.ts's layout) back as statistics. */
export function statsOfTally(v: Float32Array): MoeStats {
  const E = (v.length - 5) / 2
  const tokens = v[2 * E + 4]
  const counts = (from: number) => Int32Array.from(v.subarray(from, from + E), Math.round)
  return {
    load: counts(0),
    chosenLoad: counts(E),
    dropped: Math.round(v[2 * E]),
    tokensWithoutExpert: Math.round(v[2 * E + 1]),
    meanExperts: tokens ? v[2 * E + 2] / tokens : 0,
    entropy: tokens ? v[2 * E + 3] / tokens : 0,
    tokens,
  }
}
