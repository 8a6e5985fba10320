import { Rng, type RngState } from '../../shared/rng'
import type { Batch } from '../train/data'
import type { Example } from './examples'

/**
 * Conversations packed into rows of T inputs (T + 1 tokens with the last target), several
 * per row: each token's position within its own conversation, which conversation of the
 * row it belongs to, and whether its next token is trained. Rows are row-major, (count·T).
 */
export interface PackedRows {
  count: number
  T: number
  inputs: Int32Array
  targets: Int32Array
  positions: Int32Array
  segments: Int32Array
  /** 1 where the target is trained (an assistant token of the same conversation), else 0. */
  trained: Uint8Array
}

/**
 * Best-fit-decreasing packing: the longest conversations first, each into the row with the
 * least room that still holds it whole (none is split). The tail of a row is padding with
 * its own segment, never trained. Deterministic, so a resumed run packs the same rows.
 */
export function packExamples(examples: readonly Example[], T: number, padId: number): PackedRows {
  const capacity = T + 1
  const order = examples
    .map((e, i) => ({ e, i }))
    .sort((a, b) => b.e.ids.length - a.e.ids.length || a.i - b.i)
  // Rows by the room they have left: room[r] lists rows with exactly r tokens free.
  const rows: Example[][] = []
  const used: number[] = []
  const byRoom: number[][] = Array.from({ length: capacity + 1 }, () => [])
  for (const { e } of order) {
    const L = e.ids.length
    let row = -1
    for (let r = L; r < capacity && row < 0; r++) if (byRoom[r].length > 0) row = byRoom[r].pop()!
    if (row < 0) {
      row = rows.length
      rows.push([])
      used.push(0)
    }
    rows[row].push(e)
    used[row] += L
    byRoom[capacity - used[row]].push(row)
  }
  return buildRows(rows, T, padId)
}

/** Sequences laid out as rows of T inputs: each row's members one after the other, then padding. */
export function buildRows(
  rows: readonly (readonly Example[])[],
  T: number,
  padId: number,
): PackedRows {
  const capacity = T + 1
  const count = rows.length
  const out: PackedRows = {
    count,
    T,
    inputs: new Int32Array(count * T),
    targets: new Int32Array(count * T),
    positions: new Int32Array(count * T),
    segments: new Int32Array(count * T),
    trained: new Uint8Array(count * T),
  }
  const tokens = new Int32Array(capacity)
  const segment = new Int32Array(capacity)
  const position = new Int32Array(capacity)
  const trained = new Uint8Array(capacity)
  rows.forEach((members, r) => {
    let at = 0
    members.forEach((e, s) => {
      tokens.set(e.ids, at)
      trained.set(e.trained, at)
      for (let j = 0; j < e.ids.length; j++) {
        segment[at + j] = s
        position[at + j] = j
      }
      at += e.ids.length
    })
    for (let j = at; j < capacity; j++) {
      tokens[j] = padId
      trained[j] = 0
      segment[j] = members.length
      position[j] = j - at
    }
    const base = r * T
    for (let t = 0; t < T; t++) {
      out.inputs[base + t] = tokens[t]
      out.targets[base + t] = tokens[t + 1]
      out.positions[base + t] = position[t]
      out.segments[base + t] = segment[t]
      out.trained[base + t] = segment[t + 1] === segment[t] ? trained[t + 1] : 0
    }
  })
  return out
}

/** Rows first … first + B − 1 of a packing as a batch, with its attention layout and loss weights. */
export function packedBatch(rows: PackedRows, picks: ArrayLike<number>): Batch {
  const { T } = rows
  const B = picks.length
  const N = B * T
  const inputs = new Int32Array(N)
  const targets = new Int32Array(N)
  const positions = new Int32Array(N)
  const segments = new Int32Array(N)
  const weights = new Float32Array(N)
  let counted = 0
  for (let b = 0; b < B; b++) {
    const from = picks[b] * T
    inputs.set(rows.inputs.subarray(from, from + T), b * T)
    targets.set(rows.targets.subarray(from, from + T), b * T)
    positions.set(rows.positions.subarray(from, from + T), b * T)
    segments.set(rows.segments.subarray(from, from + T), b * T)
    for (let t = 0; t < T; t++) {
      const w = rows.trained[from + t]
      weights[b * T + t] = w
      counted += w
    }
  }
  // Mean 1 over the batch's rows: the loss, a mean over rows of weight × cross-entropy, is
  // then the mean over the trained tokens, however a batch is sharded across threads.
  if (counted > 0) for (let i = 0; i < N; i++) weights[i] *= N / counted
  return { inputs, targets, B, T, packing: { positions, segments, weights } }
}

/** Random packed rows (with replacement): the fine-tuning counterpart of BatchSampler. */
export class PackedSampler {
  private readonly rng: Rng

  constructor(
    private readonly rows: PackedRows,
    private readonly B: number,
    seed: number | RngState,
  ) {
    this.rng = new Rng(seed)
  }

  next(B = this.B): Batch {
    const picks = Int32Array.from({ length: B }, () => this.rng.int(this.rows.count))
    return packedBatch(this.rows, picks)
  }

  state(): RngState {
    return this.rng.state()
  }
}
