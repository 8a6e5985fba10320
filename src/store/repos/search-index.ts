import type { Db } from '../database'

/**
 * The full-text index (`documents_fts`, contentless) kept in step with `documents` by the
 * two code paths that write text: import inserts and the clean job's updates. Triggers
 * did this before migration 7; a trigger that writes a virtual table made every import
 * insert twice as dear and every clean update about twice as dear, even when it did
 * nothing (SQLite materializes the old and new rows, text included, for each firing).
 * Deletes still go through the `documents_fts_delete` trigger (cascades, rare).
 */
export class SearchIndex {
  private readonly insertStmt
  private readonly deleteStmt
  private readonly modifiedAmong
  private readonly textStmt

  constructor(db: Db) {
    this.insertStmt = db.prepare<[number, string, string | null]>(
      'INSERT INTO documents_fts (rowid, text, cleaned_text) VALUES (?, ?, ?)',
    )
    this.deleteStmt = db.prepare<[number]>('DELETE FROM documents_fts WHERE rowid = ?')
    this.modifiedAmong = db
      .prepare<[string], number>(
        `SELECT d.id FROM json_each(?) j JOIN documents d ON d.id = j.value WHERE d.modified = 1`,
      )
      .pluck()
    this.textStmt = db.prepare<[number], string>('SELECT text FROM documents WHERE id = ?').pluck()
  }

  /** A newly inserted document (its original text; nothing is cleaned yet). */
  added(id: number, text: string): void {
    this.insertStmt.run(id, text, null)
  }

  /**
   * Call before a batch of cleaning results is written: the cleaned text is indexed only
   * where cleaning changed it, so an entry changes only when its document was or becomes
   * modified. One query finds which were modified before (most documents never are).
   * Returns how many entries it re-indexed.
   */
  cleaned(docs: readonly { id: number; modified: boolean; cleanedText: string | null }[]): number {
    if (docs.length === 0) return 0
    const wasModified = new Set(this.modifiedAmong.all(JSON.stringify(docs.map((d) => d.id))))
    let reindexed = 0
    for (const d of docs) {
      if (!d.modified && !wasModified.has(d.id)) continue
      const text = this.textStmt.get(d.id)
      if (text === undefined) continue
      this.deleteStmt.run(d.id)
      this.insertStmt.run(d.id, text, d.modified ? d.cleanedText : null)
      reindexed++
    }
    return reindexed
  }
}
