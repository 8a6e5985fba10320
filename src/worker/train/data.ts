import { Rng, type RngState } from '../../shared/rng'
import type { PackedRows } from '../sft/pack'
import type { PreferenceRows } from '../sft/preference-rows'
import type { PreferenceLayout } from '../model/preference-loss'
import type { PolicyLayout } from '../model/policy-loss'
import type { PolicyPrompt } from '../grpo/policy'
import type { Tokenizer } from '../tokenizer'

/** Token ids for training and validation; typed arrays, so 100M tokens fit easily. */
export interface TokenData {
  train: Uint16Array | Int32Array
  val: Uint16Array | Int32Array
  vocabSize: number
  /**
   * Fine-tuning: the conversations packed into rows, which the run samples instead of
   * windows of `train` (then the rows' inputs, for what reads the stream).
   */
  packed?: { train: PackedRows; val: PackedRows }
  /** Preference training: pairs of replies packed into rows (sampled instead of `packed`). */
  preference?: { train: PreferenceRows; val: PreferenceRows }
  /**
   * GRPO: the prompts replies are sampled for, with their reference answers (the packed
   * conversations stay, for the validation loss of the reference answers).
   */
  prompts?: { train: PolicyPrompt[]; val: PolicyPrompt[]; tokenizer: Tokenizer }
}

export interface Batch {
  /** (B·T) inputs and the next-token targets, row-major by sequence. */
  inputs: Int32Array
  targets: Int32Array
  B: number
  T: number
  /** With window-aligned sampling: the window (of the context length) each sequence opens. */
  windows?: Int32Array
  /** Fine-tuning: several conversations per row, each attending only to itself. */
  packing?: BatchPacking
  /** Preference training: the pairs of replies in the rows (with `packing`). */
  preference?: PreferenceLayout
  /** GRPO: sampled replies, one per row, with their advantages (with `packing`). */
  policy?: PolicyLayout
}

/** Several short sequences packed into each row: none sees another, and only some targets count. */
export interface BatchPacking {
  /** (B·T) each input's position within its own sequence: rotary positions restart at 0. */
  positions: Int32Array
  /** (B·T) which sequence of its row each input belongs to; attention stays within it. */
  segments: Int32Array
  /**
   * (B·T) each target's weight in the loss: 0 for prompt tokens and padding, the same
   * positive value for every trained one, with mean 1 over the whole batch.
   */
  weights: Float32Array
}

/**
 * nanoGPT-style sampling: each sequence is a window of T+1 tokens at a uniformly random
 * offset. The sampler's only state is its RNG, so the data cursor checkpoints as four
 * words and a resumed run draws exactly the batches the uninterrupted one would.
 */
export class BatchSampler {
  private readonly rng: Rng

  constructor(
    private readonly tokens: Uint16Array | Int32Array,
    private readonly B: number,
    private readonly T: number,
    seed: number | RngState,
    /** Sequences start only at multiples of this (cached teacher windows); null: anywhere. */
    private readonly alignTo: number | null = null,
  ) {
    if (tokens.length < T + 2) {
      throw new Error(
        `Too little data: ${tokens.length} tokens cannot fill one sequence of ${T + 1}.`,
      )
    }
    this.rng = new Rng(seed)
  }

  /** B sequences of T tokens (by default the sizes it was made with; T may be shorter). */
  next(B = this.B, T = this.T): Batch {
    const inputs = new Int32Array(B * T)
    const targets = new Int32Array(B * T)
    const span = this.tokens.length - T - 1
    const align = this.alignTo
    const windows = align ? new Int32Array(B) : undefined
    const count = align ? Math.floor((this.tokens.length - 1) / align) : 0
    for (let b = 0; b < B; b++) {
      let start: number
      if (windows) {
        windows[b] = this.rng.int(count)
        start = windows[b] * align!
      } else start = this.rng.int(span + 1)
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = this.tokens[start + t]!
        targets[b * T + t] = this.tokens[start + t + 1]!
      }
    }
    return windows ? { inputs, targets, B, T, windows } : { inputs, targets, B, T }
  }

  state(): RngState {
    return this.rng.state()
  }
}

/** Consecutive, non-overlapping windows of S tokens (plus the next-token target) a stream holds. */
export function windowCount(tokens: number, S: number): number {
  return Math.floor((tokens - 1) / S)
}

/** Windows `first` … `first + count − 1` (window k starts at token k·S) as one batch. */
export function windowBatch(
  tokens: Uint16Array | Int32Array,
  first: number,
  count: number,
  S: number,
): Batch {
  const inputs = new Int32Array(count * S)
  const targets = new Int32Array(count * S)
  for (let b = 0; b < count; b++) {
    const start = (first + b) * S
    for (let t = 0; t < S; t++) {
      inputs[b * S + t] = tokens[start + t]
      targets[b * S + t] = tokens[start + t + 1]
    }
  }
  return { inputs, targets, B: count, T: S }
}
