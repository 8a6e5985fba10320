import { writeTransaction, type Db } from '../database'
import type { DatasetSummary } from '../../shared/types'
import { UserError } from '../../shared/errors'

/** SQL: the dataset `d` is not being deleted (those are gone as far as users can tell). */
export const NOT_DELETING =
  'NOT EXISTS (SELECT 1 FROM dataset_deletions x WHERE x.dataset_id = d.id)'

/** A dataset whose deletion was asked for and has not finished. */
export interface PendingDeletion {
  datasetId: number
  /** Its name when deletion was asked for. */
  name: string
}

/** Datasets (their documents are DocumentsRepo's). */
export class DatasetsRepo {
  constructor(private readonly db: Db) {}

  private readonly summarySql = `SELECT d.id, d.name, d.created_at AS createdAt,
      (SELECT COUNT(*) FROM documents WHERE dataset_id = d.id) AS documents
    FROM datasets d`

  list(): DatasetSummary[] {
    // Datasets still being imported are not listed until their first import commits.
    return this.db
      .prepare<[], DatasetSummary>(
        `${this.summarySql} WHERE d.state = 'ready' AND ${NOT_DELETING}
         ORDER BY d.created_at DESC, d.id DESC`,
      )
      .all()
  }

  get(id: number): DatasetSummary | null {
    return (
      this.db
        .prepare<[number], DatasetSummary>(`${this.summarySql} WHERE d.id = ? AND ${NOT_DELETING}`)
        .get(id) ?? null
    )
  }

  /** Whether a dataset exists: cheap, unlike get(), which counts its documents. */
  exists(id: number): boolean {
    return (
      this.db.prepare(`SELECT 1 FROM datasets d WHERE d.id = ? AND ${NOT_DELETING}`).get(id) !==
      undefined
    )
  }

  /** A dataset's state ('importing', 'ready', …), or null when there is none or it is being deleted. */
  state(id: number): string | null {
    return (
      this.db
        .prepare<[number], string>(
          `SELECT state FROM datasets d WHERE d.id = ? AND ${NOT_DELETING}`,
        )
        .pluck()
        .get(id) ?? null
    )
  }

  /**
   * Delete up to `limit` of a dataset's documents, lowest ids first, in one transaction
   * (their labels and search entries go with them). Returns how many documents went.
   */
  deleteDocuments(datasetId: number, limit: number): number {
    return writeTransaction(
      this.db,
      () =>
        // `changes` counts the documents only, not the rows their deletion cascades to.
        this.db
          .prepare<[number, number]>(
            `DELETE FROM documents WHERE id IN
               (SELECT id FROM documents WHERE dataset_id = ? ORDER BY id LIMIT ?)`,
          )
          .run(datasetId, limit).changes,
    )
  }

  /** Delete the dataset's own row, with what hangs off it (labels, token sets, the deletion mark). */
  deleteRow(id: number): void {
    writeTransaction(this.db, () => this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id))
  }

  /**
   * Ask for a dataset's deletion (the `data.delete` job does it): from now on it is listed
   * nowhere and its name is free for a new dataset. Quick whatever the dataset's size.
   */
  markForDeletion(id: number, now: string): PendingDeletion {
    return writeTransaction(this.db, () => {
      const row = this.db
        .prepare<[number], { name: string }>(
          `SELECT name FROM datasets d WHERE d.id = ? AND ${NOT_DELETING}`,
        )
        .get(id)
      if (!row) throw new UserError('not_found', `There is no dataset with id ${id}.`, 'datasetId')
      this.db
        .prepare('INSERT INTO dataset_deletions (dataset_id, name, requested_at) VALUES (?, ?, ?)')
        .run(id, row.name, now)
      // A name no one types (it starts with a NUL), unique by the id.
      this.db.prepare('UPDATE datasets SET name = ? WHERE id = ?').run(`\u0000deleting ${id}`, id)
      return { datasetId: id, name: row.name }
    })
  }

  /** Deletions asked for and not finished, oldest first. */
  pendingDeletions(): PendingDeletion[] {
    return this.db
      .prepare<[], PendingDeletion>(
        'SELECT dataset_id AS datasetId, name FROM dataset_deletions ORDER BY requested_at, dataset_id',
      )
      .all()
  }

  byName(name: string): DatasetSummary | null {
    return (
      this.db.prepare<[string], DatasetSummary>(`${this.summarySql} WHERE d.name = ?`).get(name) ??
      null
    )
  }

  /** The dataset of that name, deleting or not, with its state ('importing', 'ready', …). */
  stateByName(name: string): { id: number; state: string } | null {
    return (
      this.db
        .prepare<[string], { id: number; state: string }>(
          'SELECT id, state FROM datasets WHERE name = ?',
        )
        .get(name) ?? null
    )
  }

  /** Hides a new dataset from lists until its first import commits (ImportsRepo marks it ready). */
  markImporting(id: number): void {
    this.db.prepare(`UPDATE datasets SET state = 'importing' WHERE id = ?`).run(id)
  }

  /** When the dataset's corpus last changed: its last finished import or cleaning run ('' if none). */
  corpusChangedAt(datasetId: number): string {
    const row = this.db
      .prepare<[number, number], { at: string | null }>(
        `SELECT MAX(at) AS at FROM (
           SELECT finished_at AS at FROM imports WHERE dataset_id = ? AND state = 'done'
           UNION ALL SELECT finished_at FROM clean_runs WHERE dataset_id = ? AND state = 'done')`,
      )
      .get(datasetId, datasetId)
    return row?.at ?? ''
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
