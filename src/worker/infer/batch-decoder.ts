import * as tf from '@tensorflow/tfjs-core'
import { throwIfBackendFailed } from '../backend-failure'
import { KvCache } from '../model/kv-cache'
import type { Numerics } from '../model/numerics'
import { Transformer, type Params } from '../model/model'
import { inferenceConfig } from '../model/config'
import { trimGpuPool } from '../webgpu/device'
import { paddedRows } from './padded-rows'

/**
 * Many sequences decoded together with one key/value cache: GRPO's rollouts (prompts × a
 * group of replies each) and any other batch of generations. The prompts go through the
 * model once, right-padded to the longest (prefill); then each pass feeds one new token
 * per row, attending to that row's cached keys and values, so n new tokens cost n passes
 * of one row each instead of n passes over every prefix.
 *
 * Rows differ in length, so each cached key carries its position in its own sequence
 * (−1 for padding) and every pass builds its rotary tables and mask from those
 * (`Transformer.positionedTables`): a row attends exactly as it would alone. Rows that
 * finish leave the batch (`keep`), so a pass costs what the unfinished rows need. MoE
 * layers route with no capacity limit, as inference does (`inferenceConfig`); a model's
 * adapters apply as in training.
 */
export class BatchDecoder {
  private readonly model: Transformer
  private readonly cache: KvCache
  /** (rows, cache.length) each cached key's position in its row's sequence, −1: padding. */
  private keyPositions = new Int32Array(0)
  /** Tokens of each row so far: the position of its next one. */
  private lengths: number[] = []

  constructor(
    model: Transformer,
    private readonly params: Params,
    private readonly numerics: Numerics,
  ) {
    this.model = model.withConfig(inferenceConfig(model.config))
    this.cache = new KvCache(model.config.layers, 0)
  }

  /** Sequences in the batch. */
  get rows(): number {
    return this.lengths.length
  }

  /**
   * Start the batch with these prompts (each at least one token, at most the context);
   * returns the logits (rows, V) after each one's last token.
   */
  async start(prompts: readonly (readonly number[])[]): Promise<Float32Array> {
    const context = this.model.config.contextLength
    if (prompts.some((p) => p.length === 0 || p.length > context))
      throw new Error(`Every prompt needs 1 to ${context} tokens (the model's context).`)
    const { R: B, L: T, ids, positions, last } = paddedRows(prompts)
    // Padding after a prompt's end is position −1: no key to attend to.
    const queries = positions.map((t, i) => (t < prompts[Math.floor(i / T)].length ? t : -1))
    this.reset(B)
    this.lengths = prompts.map((p) => p.length)
    return this.pass(ids, queries, T, last)
  }

  /** One more token for every row, in row order; returns the logits (rows, V) after it. */
  async next(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length !== this.rows) throw new Error(`${ids.length} tokens for ${this.rows} rows.`)
    const context = this.model.config.contextLength
    if (this.lengths.some((n) => n >= context))
      throw new Error(`A row would pass the model's context of ${context} tokens.`)
    const queries = Int32Array.from(this.lengths)
    this.lengths = this.lengths.map((n) => n + 1)
    return this.pass(Int32Array.from(ids), queries, 1, null)
  }

  /** Keep only these rows (indices into the current ones), in this order. */
  keep(rows: readonly number[]): void {
    const L = this.cache.length
    const kept = new Int32Array(rows.length * L)
    rows.forEach((r, i) => kept.set(this.keyPositions.subarray(r * L, (r + 1) * L), i * L))
    this.keyPositions = kept
    this.lengths = rows.map((r) => this.lengths[r])
    this.cache.keepRows(rows)
  }

  /**
   * One pass of T tokens per row at positions `queries` (B·T); the logits of the rows in
   * `pick` (B·T indices), or of every row when T = 1. A pass that fails empties the batch.
   */
  private async pass(
    ids: Int32Array,
    queries: Int32Array,
    T: number,
    pick: Int32Array | null,
  ): Promise<Float32Array> {
    const B = this.rows
    const cached = this.cache.length
    const L = cached + T
    // Each row's keys: the cached ones, then this pass's tokens.
    const keys = new Int32Array(B * L)
    for (let b = 0; b < B; b++) {
      keys.set(this.keyPositions.subarray(b * cached, (b + 1) * cached), b * L)
      keys.set(queries.subarray(b * T, (b + 1) * T), b * L + cached)
    }
    const P = this.params
    const tables = this.model.positionedTables(queries, keys, B, T)
    const input = tf.tensor1d(ids, 'int32')
    let x: tf.Tensor2D | null = null
    try {
      x = await this.model.hiddenAsync(P, input, B, T, {
        numerics: this.numerics,
        tables,
        cache: this.cache,
      }) // (B·T, D)
      const hidden = x
      const logits = tf.tidy(() =>
        this.model.head(
          P,
          pick ? tf.gather(hidden, tf.tensor1d(pick, 'int32')) : hidden,
          this.numerics,
        ),
      ) // (B, V)
      this.cache.advance(T)
      this.keyPositions = keys
      const values = (await logits.data()) as Float32Array
      logits.dispose()
      throwIfBackendFailed()
      trimGpuPool() // every pass makes new sizes (the cache grows)
      return values
    } catch (err) {
      this.reset()
      throw err
    } finally {
      x?.dispose()
      input.dispose()
      Transformer.disposeTables(tables)
    }
  }

  /** Forget every row; the next batch has `rows`. */
  private reset(rows = 0): void {
    this.cache.reset(rows)
    this.keyPositions = new Int32Array(0)
    this.lengths = []
  }

  dispose(): void {
    this.reset()
    this.model.dispose()
  }
}
