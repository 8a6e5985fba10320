import * as tf from '@tensorflow/tfjs-core'

/**
 * The keys and values of one sequence's tokens so far, per layer: what lets decoding
 * process each new token as one row through the model (Transformer's blocks with
 * `BlockOptions.cache`) instead of the whole sequence again.
 */
export class KvCache {
  /** Per layer: cached keys and values (length, D), or null before the first token. */
  private readonly keys: (tf.Tensor2D | null)[]
  private readonly values: (tf.Tensor2D | null)[]
  /** Tokens cached: the position of the next one. */
  length = 0

  constructor(layers: number) {
    this.keys = Array.from({ length: layers }, () => null)
    this.values = Array.from({ length: layers }, () => null)
  }

  /**
   * Layer l's keys and values with this pass's k and v (n, D) appended: (length + n, D).
   * They outlive the caller's tidy; the previous ones are freed. `length` moves on only
   * when the whole pass is done (`advance`), since every layer appends at the same position.
   */
  extend(l: number, k: tf.Tensor2D, v: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const joined = (prev: tf.Tensor2D | null, t: tf.Tensor2D) =>
      tf.keep(prev ? tf.concat<tf.Tensor2D>([prev, t], 0) : t.clone())
    const K = joined(this.keys[l], k)
    const V = joined(this.values[l], v)
    this.keys[l]?.dispose()
    this.values[l]?.dispose()
    this.keys[l] = K
    this.values[l] = V
    return [K, V]
  }

  /** The pass that appended n tokens at every layer is complete. */
  advance(n: number): void {
    this.length += n
  }

  /** Forget the sequence. */
  reset(): void {
    tf.dispose([...this.keys, ...this.values].filter((t): t is tf.Tensor2D => t !== null))
    this.keys.fill(null)
    this.values.fill(null)
    this.length = 0
  }
}
