import * as tf from '@tensorflow/tfjs-core'
import { weightSetOf } from '../model/config'
import {
  routesOnDeviceFor,
  statsOfTally,
  type MoeReport,
  type MoeStats,
  type Routing,
} from '../model/layers/moe'
import { readsSync, readTogether } from '../kernels/host-views'
import { gradientsOf, variableGradients } from './backprop'
import { crossEntropy, distillationKl } from '../model/loss'
import { preferenceLoss, type PreferenceObjective } from '../model/preference-loss'
import { policyLoss, type PolicyObjective } from '../model/policy-loss'
import { Transformer, type Params, type SequenceTables } from '../model/model'
import type { Numerics } from '../model/numerics'
import { gatherRows } from '../model/ops'
import { names } from '../model/params'
import { adapterNames } from '../model/lora'
import { layerAdapterSeed } from '../model/model'
import type { Batch } from './data'
import type { DistillWeights } from './distill'
import { hiddenAlignmentLoss, pairLoss, type HiddenAlignment } from './hidden-align'

export interface GradientRequest {
  model: Transformer
  /** Every parameter by name (trainable ones and the router biases). */
  params: Map<string, tf.Variable>
  /** Names of the parameters to differentiate. */
  trainable: readonly string[]
  batch: Batch
  numerics: Numerics
  /** The loss is multiplied by this before differentiation (dynamic loss scaling). */
  lossScale: number
  labelSmoothing: number
  /** Per layer: DropPath multipliers per token row (B·T), or null. */
  dropPath: (Float32Array | null)[] | null
  /** Recompute each block in the backward pass instead of keeping its activations. */
  checkpointing: boolean
  /** Knowledge distillation: the loss becomes w_ce·CE + w_kl·T²·KL(teacher ‖ student) + w_hidden·MSE. */
  distill?: Distillation | null
  /** Preference training: the loss is DPO's or SimPO's over the batch's pairs (`batch.preference`). */
  preference?: PreferenceObjective | null
  /** GRPO: the loss is the clipped policy objective over the batch's replies (`batch.policy`). */
  policy?: PolicyObjective | null
  /** LoRA with dropout: the seed of this pass's adapter dropout masks. */
  adapterSeed?: number
}

export interface Distillation {
  /** The teacher's probabilities at temperature T for each of the batch's B·T rows, (N, V). */
  teacher: tf.Tensor2D
  temperature: number
  weights: Omit<DistillWeights, 'stage'>
  /** Hidden-state alignment: the pairs, and the teacher's states for each, (N, d_t). */
  hidden: { alignment: HiddenAlignment; targets: tf.Tensor2D[] } | null
}

export interface GradientResult {
  /** Mean cross-entropy of the batch (unscaled). */
  loss: number
  /** Sum of the MoE auxiliary losses (unscaled). */
  aux: number
  /** The distillation term T²·KL (unscaled), when distilling. */
  kl: number | null
  /** The hidden-state alignment MSE (unscaled), when aligning. */
  hidden: number | null
  /** d(lossScale · (loss + aux)) / d(param). The caller owns (and disposes) them. */
  grads: Map<string, tf.Tensor>
  moe: (MoeStats | null)[]
  /** Preference training: the batch's mean rewards and how many pairs it orders right. */
  preference: PreferenceMetrics | null
  /** GRPO: the batch's KL to the reference and how much the clip held back. */
  policy: PolicyMetrics | null
}

export interface PreferenceMetrics {
  chosenReward: number
  rejectedReward: number
  accuracy: number
}

export interface PolicyMetrics {
  kl: number
  clipped: number
}

/**
 * The training loss of a batch's logits: the (weighted) cross-entropy, or with a preference
 * objective DPO's or SimPO's loss, or GRPO's; their own measures (rewards, KL) are kept
 * (tf.keep) for reading.
 */
function objectiveLoss(
  r: GradientRequest,
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  layout: Layout,
  kept: tf.Scalar[],
): tf.Scalar {
  const pairs = r.batch.preference
  if (r.preference && pairs) {
    const out = preferenceLoss(logits, targets, pairs, r.preference)
    kept.push(tf.keep(out.chosenReward), tf.keep(out.rejectedReward), tf.keep(out.accuracy))
    return out.loss
  }
  const replies = r.batch.policy
  if (r.policy && replies) {
    const out = policyLoss(logits, targets, replies, r.policy, r.batch.T)
    kept.push(tf.keep(out.kl), tf.keep(out.clipped))
    return out.loss
  }
  return crossEntropy(logits, targets, r.labelSmoothing, layout.weights)
}

/** The objective's own measures, read back with the loss (see objectiveLoss's `kept`). */
function objectiveMetrics(
  r: GradientRequest,
  values: (number | null)[],
): Pick<GradientResult, 'preference' | 'policy'> {
  if (values.length === 0) return { preference: null, policy: null }
  if (r.policy && r.batch.policy) {
    const [kl, clipped] = values as number[]
    return { preference: null, policy: { kl, clipped } }
  }
  const [chosenReward, rejectedReward, accuracy] = values as number[]
  return { preference: { chosenReward, rejectedReward, accuracy }, policy: null }
}

/**
 * Gradients of one micro-batch. The scalars (loss, aux, KL, MSE) and the MoE layers'
 * statistics (on a GPU, tallies on the device) stay there until the end and are read back
 * together, once, asynchronously: a GPU backend stalls at every read, and under Node it
 * cannot read synchronously at all.
 */
export async function computeGradients(r: GradientRequest): Promise<GradientResult> {
  const packing = r.batch.packing
  const layout: Layout = packing
    ? {
        tables: r.model.packedTables(packing.positions, packing.segments, r.batch.B, r.batch.T),
        weights: tf.tensor1d(packing.weights),
      }
    : { tables: null, weights: null }
  try {
    return await (r.checkpointing ? checkpointed(r, layout) : fullTape(r, layout))
  } finally {
    if (layout.tables) Transformer.disposeTables(layout.tables)
    layout.weights?.dispose()
  }
}

/** Packed rows' positions, mask and loss weights (fine-tuning), or nulls for plain windows. */
interface Layout {
  tables: SequenceTables | null
  /** (B·T) weight of each target in the cross-entropy. */
  weights: tf.Tensor1D | null
}

/**
 * The values of some scalars and the layers' MoE statistics, read in one transfer; every
 * tensor is disposed. Null stays null.
 */
async function readResults(
  scalars: (tf.Scalar | null)[],
  reports: (MoeReport | null)[],
): Promise<{ scalars: (number | null)[]; moe: (MoeStats | null)[] }> {
  const values = await readTogether([
    ...scalars.filter((t): t is tf.Scalar => t !== null),
    ...reports.filter((m): m is tf.Tensor1D => m instanceof tf.Tensor),
  ])
  let i = 0
  return {
    scalars: scalars.map((t) => (t ? values[i++][0] : null)),
    moe: reports.map((m) => (m instanceof tf.Tensor ? statsOfTally(values[i++]) : m)),
  }
}

/**
 * How a taped pass routes: on the device (a GPU, with a capacity); by a plan decided
 * beforehand in an untaped pass with asynchronous reads (a GPU without one, see
 * Transformer.route); or, on a CPU backend, by reading synchronously as it goes.
 */
async function routingFor(
  r: GradientRequest,
  P: Params,
  ids: tf.Tensor1D,
  masks: (tf.Tensor2D | null)[] | undefined,
  tables: SequenceTables | null,
): Promise<readonly Routing[] | 'device' | undefined> {
  const moe = r.model.config.moe
  if (!moe) return undefined
  if (routesOnDeviceFor(moe)) return 'device'
  if (readsSync()) return undefined
  return r.model.route(P, ids, r.batch.B, r.batch.T, {
    numerics: r.numerics,
    ...(masks ? { dropPath: masks } : {}),
    ...(tables ? { tables } : {}),
    ...(r.adapterSeed !== undefined ? { adapterSeed: r.adapterSeed } : {}),
  })
}

function dropPathTensors(r: GradientRequest): (tf.Tensor2D | null)[] | undefined {
  return r.dropPath?.map((m) => (m ? tf.tensor2d(m, [m.length, 1]) : null))
}

/** The whole forward on one tape: fastest, keeps every activation until the backward. */
async function fullTape(r: GradientRequest, layout: Layout): Promise<GradientResult> {
  const { batch, model } = r
  const names = r.trainable
  const vars = names.map((n) => r.params.get(n)!)
  const byVar = new Map(vars.map((v, i) => [v.name, names[i]]))
  let stats: (MoeReport | null)[] = []
  let ce: tf.Scalar | null = null
  let aux: tf.Scalar | null = null
  let kl: tf.Scalar | null = null
  let mse: tf.Scalar | null = null
  const masks = dropPathTensors(r)
  const align = r.distill?.hidden ?? null
  const P: Params = Object.fromEntries(r.params)
  const ids = tf.tensor1d(batch.inputs, 'int32')
  const targets = tf.tensor1d(batch.targets, 'int32')
  const routing = await routingFor(r, P, ids, masks, layout.tables)
  const rewards: tf.Scalar[] = []
  const { value, grads } = variableGradients(() => {
    const out = model.forward(P, ids, batch.B, batch.T, {
      numerics: r.numerics,
      ...(masks ? { dropPath: masks } : {}),
      ...(layout.tables ? { tables: layout.tables } : {}),
      ...(align ? { hidden: align.alignment.pairs.map((p) => p.student) } : {}),
      ...(routing ? { routing } : {}),
      ...(r.adapterSeed !== undefined ? { adapterSeed: r.adapterSeed } : {}),
    })
    stats = out.moe
    const loss = objectiveLoss(r, out.logits, targets, layout, rewards)
    ce = tf.keep(loss)
    if (out.aux) aux = tf.keep(out.aux)
    let objective: tf.Scalar = loss
    if (r.distill) {
      const w = r.distill.weights
      const d = distillationKl(out.logits, r.distill.teacher, r.distill.temperature)
      kl = tf.keep(d)
      objective = tf.add(tf.mul(loss, w.ce), tf.mul(d, w.kl))
      if (align) {
        const m = hiddenAlignmentLoss(align.alignment, P, out.hidden, align.targets)
        mse = tf.keep(m)
        objective = tf.add(objective, tf.mul(m, w.hidden))
      }
    }
    const total = out.aux ? tf.add(objective, out.aux) : objective
    return tf.mul<tf.Scalar>(total, r.lossScale)
  }, vars)
  value.dispose()
  masks?.forEach((m) => m?.dispose())
  tf.dispose([ids, targets])
  const result = new Map<string, tf.Tensor>()
  for (const [varName, g] of Object.entries(grads)) result.set(byVar.get(varName)!, g)
  const read = await readResults([ce, aux, kl, mse, ...rewards], stats)
  const [loss, auxValue, klValue, hidden, ...measures] = read.scalars
  return {
    loss: loss!,
    aux: auxValue ?? 0,
    kl: klValue,
    hidden,
    grads: result,
    moe: read.moe,
    ...objectiveMetrics(r, measures),
  }
}

/**
 * Gradient checkpointing per block: the forward keeps only each block's input; the
 * backward recomputes one block at a time and differentiates it against the gradient
 * from above (a vector-Jacobian product: Σ block(x)·dy). Each differentiation is a
 * top-level tf.grads call; nesting one inside a custom gradient would clear the
 * engine's active tape. Same gradients as the full tape, less memory, one more forward.
 */
async function checkpointed(r: GradientRequest, layout: Layout): Promise<GradientResult> {
  const { batch, model } = r
  const c = model.config
  const { B, T } = batch
  const P: Params = Object.fromEntries(r.params)
  const trainable = new Set(r.trainable)
  const grads = new Map<string, tf.Tensor>()
  const accumulate = (name: string, g: tf.Tensor) => {
    if (!trainable.has(name)) return g.dispose()
    const prev = grads.get(name)
    if (!prev) return void grads.set(name, g)
    grads.set(name, tf.add(prev, g))
    prev.dispose()
    g.dispose()
  }
  const masks = dropPathTensors(r)
  const ids = tf.tensor1d(batch.inputs, 'int32')
  const targets = tf.tensor1d(batch.targets, 'int32')
  const device = c.moe !== null && routesOnDeviceFor(c.moe)
  const opts = (l: number) => ({
    numerics: r.numerics,
    dropPath: masks?.[l] ?? null,
    ...(device ? { routing: 'device' as const } : {}),
    ...(layout.tables ? { tables: layout.tables } : {}),
    ...(r.adapterSeed !== undefined ? { adapterSeed: layerAdapterSeed(r.adapterSeed, l) } : {}),
  })

  // 1. Forward, no tape: keep each block's input and its MoE routing, nothing else. The
  // routing is decided here once (read back asynchronously) and followed by the recompute;
  // routed on the device, the recompute decides it again, identically (same inputs).
  const inputs: tf.Tensor2D[] = []
  const stats: (MoeReport | null)[] = []
  const routing: Routing[] = []
  const auxes: tf.Scalar[] = []
  let x = tf.tidy(() => model.embed(P, ids))
  for (let l = 0; l < c.layers; l++) {
    inputs.push(x)
    const out = await model.blockAsync(P, l, x, B, T, opts(l))
    stats.push(out.moe)
    routing.push(out.routing)
    if (out.aux) auxes.push(out.aux)
    x = out.x
  }
  const auxSum = auxes.length ? tf.tidy<tf.Scalar>(() => tf.addN(auxes)) : null
  tf.dispose(auxes)

  // 1b. Hidden-state alignment: its gradient at each aligned block's output, and the projections'.
  const align = r.distill?.hidden ?? null
  const dHidden = new Map<number, tf.Tensor2D>()
  const pairLosses: tf.Scalar[] = []
  if (align) {
    const scale = (r.distill!.weights.hidden * r.lossScale) / align.alignment.pairs.length
    align.alignment.pairs.forEach((p, i) => {
      const h = p.student === c.layers - 1 ? x : inputs[p.student + 1]
      const W = p.projection ? [P[p.projection]] : []
      const g = gradientsOf((hs: tf.Tensor, ...w: tf.Tensor[]) => {
        const Q = p.projection ? { ...P, [p.projection]: w[0] } : P
        const m = pairLoss(p, Q, hs as tf.Tensor2D, align.targets[i])
        pairLosses.push(tf.keep(m))
        return tf.mul<tf.Scalar>(m, scale)
      })([h, ...W])
      dHidden.set(p.student, g[0] as tf.Tensor2D)
      if (p.projection) accumulate(p.projection, g[1])
    })
  }

  // 2. Head and loss.
  // Only what is trained is differentiated (LoRA freezes the head, the norms, the embedding).
  const headNames = (
    model.predicts === 'score'
      ? [names.finalNorm, names.score]
      : c.tieEmbeddings
        ? [names.finalNorm, names.embed]
        : [names.finalNorm, names.lmHead]
  ).filter((n) => trainable.has(n))
  let loss: tf.Scalar | null = null
  let kl: tf.Scalar | null = null
  const rewards: tf.Scalar[] = []
  const headGrads = gradientsOf((xL: tf.Tensor, ...hp: tf.Tensor[]) => {
    const Q = { ...P }
    headNames.forEach((n, i) => (Q[n] = hp[i]))
    const logits = model.head(Q, xL as tf.Tensor2D, r.numerics)
    const ce = objectiveLoss(r, logits, targets, layout, rewards)
    loss = tf.keep(ce)
    if (!r.distill) return tf.mul<tf.Scalar>(ce, r.lossScale)
    const d = distillationKl(logits, r.distill.teacher, r.distill.temperature)
    kl = tf.keep(d)
    const w = r.distill.weights
    const objective = tf.add(tf.mul(ce, w.ce), tf.mul(d, w.kl))
    return tf.mul<tf.Scalar>(objective, r.lossScale)
  })([x, ...headNames.map((n) => P[n])])
  x.dispose()
  let dy = headGrads[0] as tf.Tensor2D
  headNames.forEach((n, i) => accumulate(n, headGrads[i + 1]))

  // 3. Blocks, last to first: recompute, then differentiate against dy.
  for (let l = c.layers - 1; l >= 0; l--) {
    const blockNames = blockParamNames(model, weightSetOf(c, l), P).filter((n) => trainable.has(n))
    // dy is the gradient at block l's output; an aligned block's output has its own term.
    const extra = dHidden.get(l)
    const upstream = extra ? tf.add(dy, extra) : dy
    if (extra) {
      dy.dispose()
      extra.dispose()
    }
    // What the recompute's block keeps past tf.grads' scope: its auxiliary loss (needed
    // by the backward, so freed after it) and a tally repeating the first pass's.
    const kept: tf.Tensor[] = []
    const g = gradientsOf((xIn: tf.Tensor, ...bp: tf.Tensor[]) => {
      const Q = { ...P }
      blockNames.forEach((n, i) => (Q[n] = bp[i]!))
      const out = model.block(Q, l, xIn as tf.Tensor2D, B, T, { ...opts(l), routing: routing[l] })
      if (out.aux) kept.push(out.aux)
      if (out.moe instanceof tf.Tensor) kept.push(out.moe)
      const vjp = tf.sum(tf.mul(out.x, upstream))
      return out.aux ? tf.add(vjp, tf.mul(out.aux, r.lossScale)) : vjp
    })([inputs[l], ...blockNames.map((n) => P[n])])
    tf.dispose(kept)
    upstream.dispose()
    inputs[l].dispose()
    dy = g[0] as tf.Tensor2D
    blockNames.forEach((n, i) => accumulate(n, g[i + 1]))
  }

  // 4. Embedding lookup.
  if (trainable.has(names.embed)) {
    const [dEmbed] = gradientsOf((e: tf.Tensor) =>
      tf.sum<tf.Scalar>(tf.mul(gatherRows(e, ids), dy)),
    )([P[names.embed]])
    accumulate(names.embed, dEmbed)
  }
  dy.dispose()
  ids.dispose()
  targets.dispose()
  masks?.forEach((m) => m?.dispose())
  const meanPair = pairLosses.length
    ? tf.tidy<tf.Scalar>(() => tf.div(tf.addN(pairLosses), pairLosses.length))
    : null
  tf.dispose(pairLosses)
  const read = await readResults([loss, auxSum, kl, meanPair, ...rewards], stats)
  const [lossValue, auxValue, klValue, hidden, ...measures] = read.scalars
  return {
    loss: lossValue!,
    aux: auxValue ?? 0,
    kl: klValue,
    hidden,
    grads,
    moe: read.moe,
    ...objectiveMetrics(r, measures),
  }
}

/** Parameters of one weight set (what a block reads besides its input), adapters in P included. */
function blockParamNames(model: Transformer, s: number, P: Params): string[] {
  return weightNames(model, s).flatMap((n) => {
    const { a, b } = adapterNames(n)
    return P[a] ? [n, a, b] : [n]
  })
}

function weightNames(model: Transformer, s: number): string[] {
  const c = model.config
  const base = [
    names.attnNorm(s),
    names.q(s),
    names.k(s),
    names.v(s),
    ...(c.attentionBias ? [names.qBias(s), names.kBias(s), names.vBias(s)] : []),
    ...(c.qkNorm ? [names.qNorm(s), names.kNorm(s)] : []),
    names.attnOut(s),
    names.ffnNorm(s),
  ]
  if (c.moe && s * c.shareGroupSize >= c.moe.firstDenseLayers) {
    const experts = Array.from({ length: c.moe.routedExperts }, (_, e) => [
      names.expertGate(s, e),
      names.expertUp(s, e),
      names.expertDown(s, e),
    ]).flat()
    const shared =
      c.moe.sharedExperts > 0 ? [names.sharedGate(s), names.sharedUp(s), names.sharedDown(s)] : []
    return [...base, names.router(s), ...experts, ...shared]
  }
  return [...base, names.gate(s), names.up(s), names.down(s)]
}
