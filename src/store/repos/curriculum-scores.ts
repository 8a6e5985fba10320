import type { Db } from '../database'

/** What identifies a set of scores: the reference checkpoint, the data, the window size. */
export interface CurriculumScoresKey {
  checkpointId: number
  tokenSetId: number
  windowTokens: number
}

/** Difficulty scores of training windows under a reference checkpoint (one row per key). */
export class CurriculumScoresRepo {
  constructor(private readonly db: Db) {}

  /** The scores, or null when none were kept for this key or they cover other windows. */
  get(key: CurriculumScoresKey, windows: number): Float32Array | null {
    const row = this.db
      .prepare<[number, number, number], { windows: number; difficulty: Buffer }>(
        `SELECT windows, difficulty FROM curriculum_scores
         WHERE checkpoint_id = ? AND token_set_id = ? AND window_tokens = ?`,
      )
      .get(key.checkpointId, key.tokenSetId, key.windowTokens)
    if (!row || row.windows !== windows || row.difficulty.byteLength !== windows * 4) return null
    const out = new Float32Array(windows)
    new Uint8Array(out.buffer).set(row.difficulty)
    return out
  }

  put(key: CurriculumScoresKey, difficulty: Float32Array, now: string): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO curriculum_scores
           (checkpoint_id, token_set_id, window_tokens, windows, difficulty, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        key.checkpointId,
        key.tokenSetId,
        key.windowTokens,
        difficulty.length,
        Buffer.from(difficulty.buffer, difficulty.byteOffset, difficulty.byteLength),
        now,
      )
  }
}
