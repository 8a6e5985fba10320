import * as tf from '@tensorflow/tfjs-core'

/**
 * The keys and values of the tokens so far of one or more sequences (rows), per layer: what
 * lets decoding process each new token as one row through the model (Transformer's blocks
 * with `BlockOptions.cache`) instead of the whole sequence again. Every row holds the same
 * number of entries; where rows differ in length, the caller's attention mask hides the
 * padding (infer/batch-decoder.ts).
 */
export class KvCache {
  /** Per layer: cached keys and values (rows, length, D), or null before the first pass. */
  private readonly keys: (tf.Tensor3D | null)[]
  private readonly values: (tf.Tensor3D | null)[]
  /** Entries cached per row: the layout index of the next one. */
  length = 0
  /** Sequences decoded together. */
  private batchRows: number

  constructor(layers: number, rows = 1) {
    this.batchRows = rows
    this.keys = Array.from({ length: layers }, () => null)
    this.values = Array.from({ length: layers }, () => null)
  }

  /**
   * Layer l's keys and values with this pass's k and v (rows·T, D) appended to each row:
   * (rows·(length + T), D), row-major as attention takes them. They outlive the caller's
   * tidy; the previous ones are freed. `length` moves on only when the whole pass is done
   * (`advance`), since every layer appends at the same place.
   */
  extend(l: number, k: tf.Tensor2D, v: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const B = this.batchRows
    const joined = (prev: tf.Tensor3D | null, t: tf.Tensor2D): tf.Tensor3D => {
      const rows = tf.reshape<tf.Rank.R3>(t, [B, -1, t.shape[1]]) // (B, T, D)
      return tf.keep(prev ? tf.concat<tf.Tensor3D>([prev, rows], 1) : rows.clone())
    }
    const K = joined(this.keys[l], k)
    const V = joined(this.values[l], v)
    this.keys[l]?.dispose()
    this.values[l]?.dispose()
    this.keys[l] = K
    this.values[l] = V
    const flat = (t: tf.Tensor3D) => tf.reshape<tf.Rank.R2>(t, [-1, t.shape[2]]) // (B·L, D)
    return [flat(K), flat(V)]
  }

  /** The pass that appended n entries to every row at every layer is complete. */
  advance(n: number): void {
    this.length += n
  }

  /** Keep only these rows, in this order (sequences that finished leave the batch). */
  keepRows(rows: readonly number[]): void {
    if (rows.length === this.batchRows && rows.every((r, i) => r === i)) return
    const pick = (t: tf.Tensor3D | null) => {
      if (!t) return null
      const kept = tf.tidy(() => tf.gather(t, tf.tensor1d(rows as number[], 'int32'), 0))
      t.dispose()
      return kept
    }
    for (let l = 0; l < this.keys.length; l++) {
      this.keys[l] = pick(this.keys[l])
      this.values[l] = pick(this.values[l])
    }
    this.batchRows = rows.length
  }

  /** Forget the sequences; the next ones are `rows` (as many as before unless given). */
  reset(rows = this.batchRows): void {
    this.batchRows = rows
    tf.dispose([...this.keys, ...this.values].filter((t): t is tf.Tensor3D => t !== null))
    this.keys.fill(null)
    this.values.fill(null)
    this.length = 0
  }
}
