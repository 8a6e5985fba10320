import { type Db, writeTransaction } from '../database'
import { deciderOf } from './documents'
import { UserError } from '../../shared/errors'

export type Decision = 'keep' | 'remove'

export interface DecisionUpdate {
  /** undefined leaves it; null clears the verdict (the pipeline's decision applies again). */
  decision?: Decision | null
  note?: string
}

/**
 * A reviewer's verdict and note on a document. A verdict overrides the pipeline's status
 * (decided_by = 'reviewer'); clearing it restores the automatic one. This writes directly,
 * without history: the review workspace changes decisions through ReviewRepo, which can
 * undo. (A reviewer's labels, the tags toggled with keys 1-9, are ReviewRepo's.)
 */
export class DecisionsRepo {
  constructor(private readonly db: Db) {}

  set(documentId: number, update: DecisionUpdate, now: string): void {
    writeTransaction(this.db, () => {
      const doc = this.db
        .prepare<
          [number],
          { dataset_id: number; auto_status: string | null; decision_rule: string | null }
        >('SELECT dataset_id, auto_status, decision_rule FROM documents WHERE id = ?')
        .get(documentId)
      if (!doc)
        throw new UserError('not_found', `There is no document ${documentId}.`, 'documentId')
      const current = this.db
        .prepare<[number], { decision: Decision | null; note: string }>(
          'SELECT decision, note FROM document_decisions WHERE document_id = ?',
        )
        .get(documentId)
      const decision = update.decision === undefined ? (current?.decision ?? null) : update.decision
      const note = update.note ?? current?.note ?? ''
      this.db
        .prepare(
          `INSERT INTO document_decisions (document_id, dataset_id, decision, note, updated_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (document_id) DO UPDATE SET decision = excluded.decision,
             note = excluded.note, updated_at = excluded.updated_at`,
        )
        .run(documentId, doc.dataset_id, decision, note, now)
      if (decision) {
        this.db
          .prepare(`UPDATE documents SET status = ?, decided_by = 'reviewer' WHERE id = ?`)
          .run(decision === 'keep' ? 'kept' : 'removed', documentId)
      } else {
        this.db
          .prepare(`UPDATE documents SET status = ?, decided_by = ? WHERE id = ?`)
          .run(
            doc.auto_status ?? 'pending',
            doc.auto_status ? deciderOf(doc.decision_rule) : null,
            documentId,
          )
      }
    })
  }

  /** Decided documents of a dataset (keep or remove), for training. */
  decided(datasetId: number): { id: number; text: string; decision: Decision }[] {
    return this.db
      .prepare<[number], { id: number; text: string; decision: Decision }>(
        `SELECT d.id, d.text, l.decision FROM document_decisions l JOIN documents d ON d.id = l.document_id
         WHERE l.dataset_id = ? AND l.decision IS NOT NULL ORDER BY d.id`,
      )
      .all(datasetId)
  }

  counts(datasetId: number): { keep: number; remove: number } {
    const rows = this.db
      .prepare<[number], { decision: Decision; n: number }>(
        `SELECT decision, COUNT(*) AS n FROM document_decisions
         WHERE dataset_id = ? AND decision IS NOT NULL GROUP BY decision`,
      )
      .all(datasetId)
    return {
      keep: rows.find((r) => r.decision === 'keep')?.n ?? 0,
      remove: rows.find((r) => r.decision === 'remove')?.n ?? 0,
    }
  }

  /** Decisions set or changed after `since` (ISO time); all of them when since is null. */
  changedSince(datasetId: number, since: string | null): number {
    return (
      this.db
        .prepare<[number, string], { n: number }>(
          'SELECT COUNT(*) AS n FROM document_decisions WHERE dataset_id = ? AND updated_at > ?',
        )
        .get(datasetId, since ?? '')?.n ?? 0
    )
  }
}
