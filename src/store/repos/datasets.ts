import type { Db } from '../database'
import type { DatasetSummary } from '../../shared/types'
import { UserError } from '../../shared/errors'

/** Datasets (their documents are DocumentsRepo's). */
export class DatasetsRepo {
  constructor(private readonly db: Db) {}

  private readonly summarySql = `SELECT d.id, d.name, d.created_at AS createdAt,
      (SELECT COUNT(*) FROM documents WHERE dataset_id = d.id) AS documentCount
    FROM datasets d`

  list(): DatasetSummary[] {
    // Datasets still being imported are not listed until their first import commits.
    return this.db
      .prepare<[], DatasetSummary>(
        `${this.summarySql} WHERE d.state = 'ready' ORDER BY d.created_at DESC, d.id DESC`,
      )
      .all()
  }

  get(id: number): DatasetSummary | null {
    return (
      this.db.prepare<[number], DatasetSummary>(`${this.summarySql} WHERE d.id = ?`).get(id) ?? null
    )
  }

  /** Whether a dataset exists: cheap, unlike get(), which counts its documents. */
  exists(id: number): boolean {
    return this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(id) !== undefined
  }

  byName(name: string): DatasetSummary | null {
    return (
      this.db.prepare<[string], DatasetSummary>(`${this.summarySql} WHERE d.name = ?`).get(name) ??
      null
    )
  }

  create(name: string, now: string, description = ''): number {
    const trimmed = name.trim()
    if (!trimmed) throw new UserError('invalid_params', 'A dataset needs a name.', 'name')
    if (this.byName(trimmed))
      throw new UserError('conflict', `A dataset named "${trimmed}" already exists.`, 'name')
    const info = this.db
      .prepare('INSERT INTO datasets (name, description, created_at) VALUES (?, ?, ?)')
      .run(trimmed, description, now)
    return Number(info.lastInsertRowid)
  }
}
