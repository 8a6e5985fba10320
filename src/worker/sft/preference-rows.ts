import * as tf from '@tensorflow/tfjs-core'
import { createHash } from 'node:crypto'
import { readTogether } from '../kernels/host-views'
import { Transformer, type Params } from '../model/model'
import { replyLogProbs } from '../model/preference-loss'
import { Rng, type RngState } from '../../shared/rng'
import type { Batch } from '../train/data'
import { buildRows, packedBatch, type PackedRows } from './pack'
import type { PairExample } from './pairs'

/**
 * Preference pairs as rows: pair i's chosen reply (with its prompt) in row 2i, its rejected
 * one in row 2i + 1, each alone in its row, so a batch of pairs is a batch of rows and the
 * two replies of a pair each have the whole context.
 */
export interface PreferenceRows {
  rows: PackedRows
  /** Per pair: the trained tokens of each reply. */
  chosenTokens: Float32Array
  rejectedTokens: Float32Array
  /** Per pair: each reply's log-probability under the reference model (DPO), once computed. */
  refChosen: Float32Array | null
  refRejected: Float32Array | null
}

export function pairRows(pairs: readonly PairExample[], T: number, padId: number): PreferenceRows {
  const trainedOf = (e: PairExample['chosen']) => e.trained.reduce((n, t) => n + t, 0)
  return {
    rows: buildRows(
      pairs.flatMap((p) => [[p.chosen], [p.rejected]]),
      T,
      padId,
    ),
    chosenTokens: Float32Array.from(pairs, (p) => trainedOf(p.chosen)),
    rejectedTokens: Float32Array.from(pairs, (p) => trainedOf(p.rejected)),
    refChosen: null,
    refRejected: null,
  }
}

/** Pairs of a preference set as one batch (2 rows each), with where their replies are. */
export function preferenceBatch(pr: PreferenceRows, pairs: ArrayLike<number>): Batch {
  const picks = Int32Array.from({ length: pairs.length * 2 }, (_, i) => pairs[i >> 1] * 2 + (i & 1))
  const batch = packedBatch(pr.rows, picks)
  const { T } = pr.rows
  const N = batch.B * T
  // One reply per row: its targets are the row's trained ones.
  const reply = Int32Array.from({ length: N }, (_, i) => Math.floor(i / T))
  const mask = Float32Array.from(
    { length: N },
    (_, i) => pr.rows.trained[picks[Math.floor(i / T)] * T + (i % T)],
  )
  // A reply's last token is the input after its last trained target (the row's last input
  // when the reply ends the row: DPO's rows may hold T + 1 tokens, a reward model's hold T).
  const last = Int32Array.from({ length: batch.B }, (_, b) => {
    let t = T - 1
    while (t > 0 && mask[b * T + t] === 0) t--
    return b * T + Math.min(t + 1, T - 1)
  })
  const of = (values: Float32Array | null) =>
    values ? Float32Array.from(pairs, (p) => values[p]) : null
  return {
    ...batch,
    preference: {
      reply,
      mask,
      replies: batch.B,
      last,
      chosen: Int32Array.from(pairs, (_, k) => 2 * k),
      rejected: Int32Array.from(pairs, (_, k) => 2 * k + 1),
      chosenTokens: of(pr.chosenTokens)!,
      rejectedTokens: of(pr.rejectedTokens)!,
      refChosen: of(pr.refChosen),
      refRejected: of(pr.refRejected),
    },
  }
}

/** The number of pairs in a preference set. */
export const pairCount = (pr: PreferenceRows) => pr.chosenTokens.length

/** Random pairs (with replacement), `B` per batch, as PackedSampler draws conversations. */
export class PreferenceSampler {
  private readonly rng: Rng

  constructor(
    private readonly pr: PreferenceRows,
    private readonly B: number,
    seed: number | RngState,
  ) {
    this.rng = new Rng(seed)
  }

  next(B = this.B): Batch {
    return preferenceBatch(
      this.pr,
      Int32Array.from({ length: B }, () => this.rng.int(pairCount(this.pr))),
    )
  }

  state(): RngState {
    return this.rng.state()
  }
}

/**
 * DPO's reference: every pair's two log-probabilities under the model the run starts from,
 * computed once, B pairs at a time, before the first step (and again on a resume, from the
 * same starting weights), so the reference model never sits in memory beside the policy.
 */
export async function computeReference(
  model: Transformer,
  params: Params,
  pr: PreferenceRows,
  B: number,
): Promise<void> {
  const pairs = pairCount(pr)
  const refChosen = new Float32Array(pairs)
  const refRejected = new Float32Array(pairs)
  for (let first = 0; first < pairs; first += B) {
    const picks = Int32Array.from({ length: Math.min(B, pairs - first) }, (_, i) => first + i)
    const b = preferenceBatch(pr, picks)
    const layout = b.preference!
    const ids = tf.tensor1d(b.inputs, 'int32')
    const tables = model.packedTables(b.packing!.positions, b.packing!.segments, b.B, b.T)
    const out = await model.forwardAsync(params, ids, b.B, b.T, { tables })
    const targets = tf.tensor1d(b.targets, 'int32')
    const perReply = replyLogProbs(out.logits, targets, layout)
    const [values] = await readTogether([perReply])
    tf.dispose([ids, targets, perReply, out.logits, ...(out.aux ? [out.aux] : [])])
    Transformer.disposeTables(tables)
    picks.forEach((pair, k) => {
      refChosen[pair] = values[layout.chosen[k]]
      refRejected[pair] = values[layout.rejected[k]]
    })
  }
  pr.refChosen = refChosen
  pr.refRejected = refRejected
}

/** What identifies a set of pairs for the reference cache: a digest of their rows. */
export function pairsDigest(pr: PreferenceRows): string {
  const hash = createHash('sha256')
  for (const a of [pr.rows.inputs, pr.rows.targets, pr.rows.positions, pr.rows.trained])
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
  return hash.digest('hex')
}
