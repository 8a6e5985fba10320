import { type Db, writeTransaction } from '../database'
import type { DatasetSummary } from '../../shared/types'
import { UserError } from '../../shared/errors'
import { SearchIndex } from './search-index'

export interface NewDocument {
  source: string
  text: string
  meta?: Record<string, unknown>
}

/** Datasets and their raw documents. */
export class DatasetsRepo {
  private readonly search: SearchIndex

  constructor(private readonly db: Db) {
    this.search = new SearchIndex(db)
  }

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

  /** Insert documents in one transaction: all or none. */
  insertDocuments(datasetId: number, docs: readonly NewDocument[]): void {
    // Sizes as the data pipeline's statistics count them (~4 characters per token).
    const insert = this.db.prepare(
      `INSERT INTO documents (dataset_id, source, text, meta, char_count, token_estimate)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    writeTransaction(this.db, () => {
      for (const doc of docs) {
        const { lastInsertRowid } = insert.run(
          datasetId,
          doc.source,
          doc.text,
          doc.meta ? JSON.stringify(doc.meta) : null,
          doc.text.length,
          Math.ceil(doc.text.length / 4),
        )
        this.search.added(Number(lastInsertRowid), doc.text)
      }
    })
  }

  /** Iterate a dataset's documents in id order, `batchSize` at a time, without loading them all. */
  *documentBatches(
    datasetId: number,
    batchSize: number,
  ): Generator<{ id: number; text: string }[]> {
    const page = this.db.prepare<[number, number, number], { id: number; text: string }>(
      'SELECT id, text FROM documents WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT ?',
    )
    let after = 0
    for (;;) {
      const rows = page.all(datasetId, after, batchSize)
      if (rows.length === 0) return
      yield rows
      after = rows[rows.length - 1].id
    }
  }

  countDocuments(datasetId: number): number {
    return (
      this.db
        .prepare('SELECT COUNT(*) AS n FROM documents WHERE dataset_id = ?')
        .get(datasetId) as { n: number }
    ).n
  }
}
