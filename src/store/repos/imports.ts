import { type Db, writeTransaction } from '../database'
import { fromJson } from '../json'
import type { ImportReport } from '../../shared/data/types'

export interface ImportRequest {
  paths: string[]
  format: string
  textField?: string | undefined
}

/**
 * Imports into datasets. An import is 'running' until its last batch commits; if its
 * process is cancelled or dies, `abandon` deletes what it added (and the dataset, when
 * the import created it), so no half dataset is ever left behind.
 */
export class ImportsRepo {
  constructor(private readonly db: Db) {}

  begin(
    datasetId: number,
    jobId: string,
    ownerPid: number,
    request: ImportRequest,
    now: string,
  ): number {
    const info = this.db
      .prepare(
        `INSERT INTO imports (dataset_id, job_id, owner_pid, state, request, started_at)
         VALUES (?, ?, ?, 'running', ?, ?)`,
      )
      .run(datasetId, jobId, ownerPid, JSON.stringify(request), now)
    return Number(info.lastInsertRowid)
  }

  /** Mark the import done and the dataset ready, in one transaction. */
  finish(importId: number, report: ImportReport, now: string): void {
    writeTransaction(this.db, () => {
      this.db
        .prepare(`UPDATE imports SET state = 'done', report = ?, finished_at = ? WHERE id = ?`)
        .run(JSON.stringify(report), now, importId)
      this.db
        .prepare(
          `UPDATE datasets SET state = 'ready' WHERE id = (SELECT dataset_id FROM imports WHERE id = ?)`,
        )
        .run(importId)
    })
  }

  /** Delete an unfinished import's documents, and its dataset if nothing else made it. */
  abandon(importId: number): void {
    writeTransaction(this.db, () => {
      const row = this.db
        .prepare<[number], { dataset_id: number }>('SELECT dataset_id FROM imports WHERE id = ?')
        .get(importId)
      if (!row) return
      // Documents first (in chunks the FTS triggers can keep up with), then the import.
      this.db.prepare('DELETE FROM documents WHERE import_id = ?').run(importId)
      this.db.prepare('DELETE FROM imports WHERE id = ?').run(importId)
      this.db
        .prepare(
          `DELETE FROM datasets WHERE id = ? AND state = 'importing'
             AND NOT EXISTS (SELECT 1 FROM imports WHERE dataset_id = datasets.id)`,
        )
        .run(row.dataset_id)
    })
  }

  /** Imports left running by a process that no longer exists: undo them. Returns how many. */
  abandonOrphans(isAlive: (pid: number) => boolean): number {
    const rows = this.db
      .prepare<[], { id: number; owner_pid: number }>(
        `SELECT id, owner_pid FROM imports WHERE state = 'running'`,
      )
      .all()
      .filter((r) => !isAlive(r.owner_pid))
    for (const r of rows) this.abandon(r.id)
    return rows.length
  }

  running(datasetId: number): boolean {
    return !!this.db
      .prepare(`SELECT 1 FROM imports WHERE dataset_id = ? AND state = 'running'`)
      .get(datasetId)
  }

  reports(datasetId: number): ImportReport[] {
    return this.db
      .prepare<[number], { report: string }>(
        `SELECT report FROM imports WHERE dataset_id = ? AND state = 'done' ORDER BY id`,
      )
      .all(datasetId)
      .map((r) => fromJson<ImportReport>(r.report)!)
  }
}
