import type { Db } from '../database'

/** Reply log-probabilities of a set of preference pairs under one checkpoint. */
export interface ReferenceLogprobs {
  chosen: Float32Array
  rejected: Float32Array
}

/** DPO's reference log-probabilities, by checkpoint and a digest of the pairs (migration 010). */
export class ReferenceLogprobsRepo {
  constructor(private readonly db: Db) {}

  /** The kept values, or null when there are none for these pairs (or for another count). */
  get(checkpointId: number, digest: string, pairs: number): ReferenceLogprobs | null {
    const row = this.db
      .prepare<[number, string], { pairs: number; logprobs: Buffer }>(
        'SELECT pairs, logprobs FROM reference_logprobs WHERE checkpoint_id = ? AND pairs_digest = ?',
      )
      .get(checkpointId, digest)
    if (!row || row.pairs !== pairs || row.logprobs.byteLength !== pairs * 8) return null
    const all = new Float32Array(pairs * 2)
    new Uint8Array(all.buffer).set(row.logprobs)
    return { chosen: all.slice(0, pairs), rejected: all.slice(pairs) }
  }

  put(checkpointId: number, digest: string, values: ReferenceLogprobs, now: string): void {
    const pairs = values.chosen.length
    const all = new Float32Array(pairs * 2)
    all.set(values.chosen)
    all.set(values.rejected, pairs)
    this.db
      .prepare(
        `INSERT OR REPLACE INTO reference_logprobs (checkpoint_id, pairs_digest, pairs, logprobs, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(checkpointId, digest, pairs, Buffer.from(all.buffer), now)
  }
}
