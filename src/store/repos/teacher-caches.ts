import { type Db, writeTransaction } from '../database'

/** What identifies a cache: the teacher checkpoint, the data, and how it was computed. */
export interface TeacherCacheKey {
  checkpointId: number
  tokenSetId: number
  windowTokens: number
  temperature: number
  topK: number
}

export interface TeacherCacheRow extends TeacherCacheKey {
  id: number
  windows: number
  state: 'building' | 'ready'
}

/** One window's predictions: per position, the top-k ids and their probabilities. */
export interface CachedWindow {
  ids: Int32Array
  /** bfloat16 bits of the probabilities. */
  probs: Uint16Array
}

/**
 * Cached teacher predictions. A cache is written as 'building' and becomes 'ready' only
 * once every window is in, so an interrupted build is started over, never half-used.
 */
export class TeacherCachesRepo {
  constructor(private readonly db: Db) {}

  find(key: TeacherCacheKey): TeacherCacheRow | null {
    const r = this.db
      .prepare<
        [number, number, number, number, number],
        { id: number; windows: number; state: 'building' | 'ready' }
      >(
        `SELECT id, windows, state FROM teacher_caches WHERE checkpoint_id = ? AND token_set_id = ?
           AND window_tokens = ? AND temperature = ? AND top_k = ?`,
      )
      .get(key.checkpointId, key.tokenSetId, key.windowTokens, key.temperature, key.topK)
    return r ? { ...key, ...r } : null
  }

  /** A new, empty cache (an unfinished one with the same key is replaced). */
  create(key: TeacherCacheKey, windows: number, now: string): number {
    return writeTransaction(this.db, () => {
      const old = this.find(key)
      if (old) this.db.prepare('DELETE FROM teacher_caches WHERE id = ?').run(old.id)
      return Number(
        this.db
          .prepare(
            `INSERT INTO teacher_caches (checkpoint_id, token_set_id, window_tokens, temperature,
               top_k, windows, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'building', ?)`,
          )
          .run(
            key.checkpointId,
            key.tokenSetId,
            key.windowTokens,
            key.temperature,
            key.topK,
            windows,
            now,
          ).lastInsertRowid,
      )
    })
  }

  /** Store windows `first`, `first + 1`, … in one transaction. */
  put(cacheId: number, first: number, windows: readonly CachedWindow[]): void {
    const insert = this.db.prepare(
      'INSERT INTO teacher_cache_windows (cache_id, window_index, ids, probs) VALUES (?, ?, ?, ?)',
    )
    writeTransaction(this.db, () => {
      windows.forEach((w, i) =>
        insert.run(
          cacheId,
          first + i,
          Buffer.from(w.ids.buffer, w.ids.byteOffset, w.ids.byteLength),
          Buffer.from(w.probs.buffer, w.probs.byteOffset, w.probs.byteLength),
        ),
      )
    })
  }

  markReady(cacheId: number): void {
    this.db.prepare(`UPDATE teacher_caches SET state = 'ready' WHERE id = ?`).run(cacheId)
  }

  /** The windows asked for, in order. */
  read(cacheId: number, windowIndices: ArrayLike<number>): CachedWindow[] {
    const get = this.db.prepare<[number, number], { ids: Buffer; probs: Buffer }>(
      'SELECT ids, probs FROM teacher_cache_windows WHERE cache_id = ? AND window_index = ?',
    )
    return Array.from(windowIndices, (k) => {
      const r = get.get(cacheId, k)
      if (!r) throw new Error(`The teacher cache ${cacheId} has no window ${k}.`)
      // Copies: a Buffer may share a pool and need not be aligned for typed views.
      return {
        ids: new Int32Array(new Uint8Array(r.ids).buffer),
        probs: new Uint16Array(new Uint8Array(r.probs).buffer),
      }
    })
  }
}
