import * as tf from '@tensorflow/tfjs-core'
import type { Params, Transformer } from '../model/model'
import { Rng, type RngState } from '../../shared/rng'
import { windowBatch, windowCount, type Batch } from './data'

/**
 * Curriculum learning over the training tokens. The stream is cut into windows of the
 * model's context (window k holds tokens [k·S, k·S + S], S = context length), each window
 * gets a difficulty in nats per token, and the windows are split at their tertiles into
 * easy, medium and hard buckets. Each sequence of a batch first draws a bucket by the
 * current mix, then a window from it; the mix follows the training loss (dynamic
 * difficulty adjustment): mostly easy while the loss is high, mostly hard once it falls.
 */

export const buckets = ['easy', 'medium', 'hard'] as const
export type Bucket = (typeof buckets)[number]
export type Mix = Record<Bucket, number>

/**
 * The three mixes and when each applies (the DDA recipe's knobs): easy-heavy while the
 * smoothed loss is above the high threshold, hard-heavy below the low one, else balanced.
 */
export const mixes = {
  early: { easy: 0.7, medium: 0.2, hard: 0.1 },
  middle: { easy: 0.3, medium: 0.5, hard: 0.2 },
  late: { easy: 0.1, medium: 0.3, hard: 0.6 },
} as const satisfies Record<string, Mix>

/** Smoothing of the training loss the mix follows (an EMA: one step's noise must not flip it). */
export const LOSS_EMA = 0.9

export interface Thresholds {
  /** Above this smoothed loss (nats): the early, easy-heavy mix. */
  high: number
  /** Below this: the late, hard-heavy mix. */
  low: number
}

/** The mix for a smoothed training loss; the early one before any loss is known. */
export function mixFor(loss: number | null, t: Thresholds): Mix {
  if (loss === null || !Number.isFinite(loss) || loss > t.high) return mixes.early
  if (loss < t.low) return mixes.late
  return mixes.middle
}

export { windowCount } from './data'

/**
 * Fallback difficulty without a reference model: each window's mean unigram surprisal,
 * −log p(token) under the training stream's own token frequencies, in nats. Windows of
 * rare tokens are harder to predict; a model passes this level early in training.
 */
export function unigramDifficulty(
  tokens: Uint16Array | Int32Array,
  S: number,
  vocabSize: number,
): Float32Array {
  const counts = new Float64Array(vocabSize)
  for (const id of tokens) counts[id]++
  const surprisal = new Float64Array(vocabSize)
  for (let v = 0; v < vocabSize; v++)
    surprisal[v] = counts[v] > 0 ? -Math.log(counts[v] / tokens.length) : 0
  const N = windowCount(tokens.length, S)
  const out = new Float32Array(N)
  for (let k = 0; k < N; k++) {
    let sum = 0
    for (let t = 1; t <= S; t++) sum += surprisal[tokens[k * S + t]]
    out[k] = sum / S
  }
  return out
}

/**
 * Each window's mean cross-entropy (nats per token) under a reference model: what a
 * trained model finds hard. Forward passes only, `batch` windows at a time.
 */
export async function referenceDifficulty(
  model: Transformer,
  params: Params,
  tokens: Uint16Array | Int32Array,
  S: number,
  options: { batch?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array> {
  const N = windowCount(tokens.length, S)
  const B = options.batch ?? 16
  const out = new Float32Array(N)
  for (let first = 0; first < N; first += B) {
    const n = Math.min(B, N - first)
    const { inputs, targets } = windowBatch(tokens, first, n, S)
    const ids = tf.tensor1d(inputs, 'int32')
    const { logits, aux } = await model.forwardAsync(params, ids, n, S)
    aux?.dispose()
    ids.dispose()
    const perWindow = tf.tidy(() => {
      // Per-token CE (n·S): log-sum-exp minus the target's logit; then the mean per window.
      const V = logits.shape[1]
      const lse = tf.logSumExp(logits, -1) // (n·S)
      const flat = tf.add(
        tf.mul(tf.range(0, n * S, 1, 'int32'), tf.scalar(V, 'int32')),
        tf.tensor1d(targets, 'int32'),
      ) // (n·S) index of each target
      const target = tf.gather(tf.reshape(logits, [-1]), flat) // (n·S)
      return tf.mean(tf.reshape(tf.sub(lse, target), [n, S]), 1) // (n)
    })
    logits.dispose()
    out.set(await perWindow.data(), first)
    perWindow.dispose()
    options.onProgress?.(first + n, N)
  }
  return out
}

/** The value below which a fraction q of the values lie (nearest rank). */
function quantile(sorted: Float32Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/**
 * Thresholds from the difficulties themselves: the mix turns balanced once the loss is
 * below the hard tertile's lower edge and hard-heavy below the easy tertile's upper edge,
 * i.e. once the model does as well as the scorer on that share of the data.
 */
export function tertileThresholds(difficulty: Float32Array): Thresholds {
  const sorted = Float32Array.from(difficulty).sort()
  return { high: quantile(sorted, 2 / 3), low: quantile(sorted, 1 / 3) }
}

/**
 * Batches drawn bucket by bucket. Each sequence starts inside its window, at a random
 * offset (so a short context sees different parts of a window); its only state is the
 * RNG, so a resumed run draws the batches the uninterrupted one would.
 */
export class CurriculumSampler {
  /** Window indices per bucket, easy to hard. */
  readonly buckets: Int32Array[]
  private readonly rng: Rng

  constructor(
    private readonly tokens: Uint16Array | Int32Array,
    private readonly S: number,
    difficulty: Float32Array,
    seed: number | RngState,
    /** Start every sequence at its window's start (cached teacher windows). */
    private readonly aligned = false,
  ) {
    if (difficulty.length < 3)
      throw new Error(
        `Too little data for a curriculum: ${difficulty.length} windows of ${S} tokens; it needs at least 3.`,
      )
    const order = Int32Array.from(difficulty.keys()).sort(
      (a, b) => difficulty[a] - difficulty[b] || a - b,
    )
    const third = Math.floor(order.length / 3)
    this.buckets = [
      order.slice(0, third),
      order.slice(third, order.length - third),
      order.slice(order.length - third),
    ]
    this.rng = new Rng(seed)
  }

  /** B sequences of T ≤ S tokens, each bucket chosen with the mix's probability. */
  next(B: number, T: number, mix: Mix): Batch {
    const inputs = new Int32Array(B * T)
    const targets = new Int32Array(B * T)
    const last = this.tokens.length - T - 1
    const chosen = new Int32Array(B)
    for (let b = 0; b < B; b++) {
      const u = this.rng.next()
      const bucket = u < mix.easy ? 0 : u < mix.easy + mix.medium ? 1 : 2
      const windows = this.buckets[bucket]
      const k = windows[this.rng.int(windows.length)]
      chosen[b] = k
      const start = this.aligned
        ? k * this.S
        : Math.min(k * this.S + this.rng.int(this.S - T + 1), last)
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = this.tokens[start + t]
        targets[b * T + t] = this.tokens[start + t + 1]
      }
    }
    return { inputs, targets, B, T, windows: chosen }
  }

  state(): RngState {
    return this.rng.state()
  }
}
