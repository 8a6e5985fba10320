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
  private readonly modifiedStmt
  private readonly textStmt

  constructor(db: Db) {
    this.insertStmt = db.prepare<[number, string, string | null]>(
      'INSERT INTO documents_fts (rowid, text, cleaned_text) VALUES (?, ?, ?)',
    )
    this.deleteStmt = db.prepare<[number]>('DELETE FROM documents_fts WHERE rowid = ?')
    this.modifiedStmt = db
      .prepare<[number], number>('SELECT modified FROM documents WHERE id = ?')
      .pluck()
    this.textStmt = db.prepare<[number], string>('SELECT text FROM documents WHERE id = ?').pluck()
  }

  /** A newly inserted document (its original text; nothing is cleaned yet). */
  added(id: number, text: string): void {
    this.insertStmt.run(id, text, null)
  }

  /**
   * Call before a cleaning result is written: the cleaned text is indexed only where
   * cleaning changed it, so the entry changes only when the document was or becomes
   * modified. Returns whether it re-indexed.
   */
  cleaned(id: number, modified: boolean, cleanedText: string | null): boolean {
    const wasModified = this.modifiedStmt.get(id)
    if (wasModified === undefined || (wasModified === 0 && !modified)) return false
    this.deleteStmt.run(id)
    this.insertStmt.run(id, this.textStmt.get(id) ?? '', modified ? cleanedText : null)
    return true
  }
}
