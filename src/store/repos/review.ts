import { type Db, writeTransaction } from '../database'
import { ftsQuery } from './document-queries'
import { UserError } from '../../shared/errors'
import { Rng } from '../../shared/rng'
import type { DeciderId } from '../../shared/data/rules'
import {
  queueKey,
  type BulkChange,
  type LabelDef,
  type Queue,
  type QueueCounts,
  type QueueMember,
  type ReviewAction,
  type ReviewDecision,
  type ReviewProgress,
  type SampleSummary,
  type StepDirection,
} from '../../shared/review'

/**
 * The members of a queue as SQL: `FROM` and `WHERE` over documents `d` (with the reviewer's
 * row `l` joined), and the columns that order it. Every order ends in a unique column, so
 * "the next document after this one" is a keyset seek, fast on a million documents.
 */
interface QueueSql {
  from: string
  where: string
  args: unknown[]
  /** Order columns, ascending; the last is unique within the queue. */
  order: string[]
  /** The order columns of one document, whether or not it is (still) a member. */
  keyOf: (id: number) => unknown[] | null
}

/** A set of documents an action changes: SQL over `d` and `l`, as in QueueSql. */
interface Target {
  from: string
  where: string
  args: unknown[]
}

const PREVIEW_CHARS = 200

/** The uncertain queue's order: closest to the decision boundary first, unscored last. */
const UNCERTAINTY = 'coalesce(abs(d.quality_score - 0.5), 1)'

/** Effective status and decider after a reviewer decision `v` (NULL: back to the pipeline's). */
const STATUS_FROM_DECISION = `CASE x.v WHEN 'keep' THEN 'kept' WHEN 'remove' THEN 'removed'
  ELSE coalesce(documents.auto_status, 'pending') END`
const DECIDER_FROM_DECISION = `CASE WHEN x.v IS NOT NULL THEN 'reviewer'
  WHEN documents.auto_status IS NULL THEN NULL
  WHEN documents.decision_rule = 'quality' THEN 'model'
  WHEN documents.decision_rule IN ('dedup_exact', 'dedup_near') THEN 'dedup'
  ELSE 'rules' END`

interface ActionRow {
  id: number
  field: ReviewAction['field']
  label_id: number | null
  summary: string
  document_id: number | null
  documents: number
  created_at: string
}

const toAction = (r: ActionRow): ReviewAction => ({
  id: r.id,
  field: r.field,
  summary: r.summary,
  documents: r.documents,
  documentId: r.document_id,
  createdAt: r.created_at,
})

/**
 * The review workspace's store: labels, queues, the undoable history of decisions,
 * positions, audit samples and progress. Every reviewer change is an action whose
 * per-document before and after values are kept, so undo and redo survive a restart and
 * a bulk change is undone as one step.
 */
export class ReviewRepo {
  /** Full-text matches, materialized once per search (see searchTable). */
  private readonly searches = new Map<string, { table: string; rows: number }>()

  constructor(private readonly db: Db) {}

  /* ---------------------------------------------------------------- labels */

  labels(datasetId: number): LabelDef[] {
    return this.db
      .prepare<
        [number],
        {
          id: number
          dataset_id: number
          name: string
          key: string | null
          color: string
          position: number
          documents: number
        }
      >(
        `SELECT d.id, d.dataset_id, d.name, d.key, d.color, d.position,
           (SELECT COUNT(*) FROM document_tags t WHERE t.label_id = d.id) AS documents
         FROM label_defs d WHERE d.dataset_id = ? ORDER BY d.position, d.id`,
      )
      .all(datasetId)
      .map((r) => ({
        id: r.id,
        datasetId: r.dataset_id,
        name: r.name,
        key: r.key,
        color: r.color,
        position: r.position,
        documents: r.documents,
      }))
  }

  label(id: number): LabelDef | null {
    const row = this.db
      .prepare<[number], { dataset_id: number }>('SELECT dataset_id FROM label_defs WHERE id = ?')
      .get(id)
    return row ? (this.labels(row.dataset_id).find((l) => l.id === id) ?? null) : null
  }

  /** Create a label, or change one (`id`). Names and keys are unique within a dataset. */
  saveLabel(
    datasetId: number,
    input: { id?: number | undefined; name: string; key: string | null; color: string },
    now: string,
  ): LabelDef {
    const clash = this.db
      .prepare<[number, string, string | null, number], { name: string; key: string | null }>(
        `SELECT name, key FROM label_defs
         WHERE dataset_id = ? AND (name = ? OR key = ?) AND id != ? LIMIT 1`,
      )
      .get(datasetId, input.name, input.key, input.id ?? 0)
    if (clash?.name === input.name)
      throw new UserError('conflict', `There is already a label named "${input.name}".`, 'name')
    if (clash)
      throw new UserError(
        'conflict',
        `Key ${input.key} already toggles the label "${clash.name}".`,
        'key',
      )
    let id = input.id
    if (id !== undefined) {
      const changed = this.db
        .prepare(
          'UPDATE label_defs SET name = ?, key = ?, color = ? WHERE id = ? AND dataset_id = ?',
        )
        .run(input.name, input.key, input.color, id, datasetId).changes
      if (changed === 0) throw new UserError('not_found', `There is no label ${id}.`, 'id')
    } else {
      const position =
        this.db
          .prepare<[number], { p: number | null }>(
            'SELECT max(position) AS p FROM label_defs WHERE dataset_id = ?',
          )
          .get(datasetId)?.p ?? 0
      id = Number(
        this.db
          .prepare(
            `INSERT INTO label_defs (dataset_id, name, key, color, position, created_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(datasetId, input.name, input.key, input.color, position + 1, now).lastInsertRowid,
      )
    }
    return this.label(id)!
  }

  /** Delete a label; its history goes with it (undoing it would bring back nothing). */
  deleteLabel(id: number): void {
    if (this.db.prepare('DELETE FROM label_defs WHERE id = ?').run(id).changes === 0)
      throw new UserError('not_found', `There is no label ${id}.`, 'id')
  }

  /* ---------------------------------------------------------------- queues */

  private queueSql(q: Queue): QueueSql {
    const base = 'documents d LEFT JOIN document_decisions l ON l.document_id = d.id'
    const keyFromDoc = (columns: string) => (id: number) => {
      const row = this.db
        .prepare<[number], Record<string, unknown>>(
          `SELECT ${columns} FROM documents d WHERE d.id = ?`,
        )
        .get(id)
      return row ? Object.values(row) : null
    }
    let sql: QueueSql
    const s = q.source
    switch (s.kind) {
      case 'uncertain':
        sql = {
          from: base,
          where: `d.dataset_id = ? AND d.auto_status = 'review'`,
          args: [q.datasetId],
          order: [UNCERTAINTY, 'd.id'],
          keyOf: keyFromDoc(`${UNCERTAINTY} AS k, d.id`),
        }
        break
      case 'audit':
        sql = {
          from: `review_sample_docs s JOIN documents d ON d.id = s.document_id
                 LEFT JOIN document_decisions l ON l.document_id = d.id`,
          where: 's.sample_id = ? AND d.dataset_id = ?',
          args: [s.sampleId, q.datasetId],
          order: ['s.position'],
          keyOf: (id) => {
            const row = this.db
              .prepare<[number, number], { position: number }>(
                'SELECT position FROM review_sample_docs WHERE sample_id = ? AND document_id = ?',
              )
              .get(s.sampleId, id)
            return row ? [row.position] : null
          },
        }
        break
      case 'rule':
        sql = {
          from: base,
          where: 'd.dataset_id = ? AND d.decision_rule = ?',
          args: [q.datasetId, s.rule],
          order: ['d.id'],
          keyOf: (id) => [id],
        }
        break
      case 'label':
        sql = {
          from: `document_tags t JOIN documents d ON d.id = t.document_id
                 LEFT JOIN document_decisions l ON l.document_id = d.id`,
          where: 't.label_id = ? AND d.dataset_id = ?',
          args: [s.labelId, q.datasetId],
          order: ['d.id'],
          keyOf: (id) => [id],
        }
        break
      case 'score':
        sql = {
          from: base,
          where: 'd.dataset_id = ? AND d.quality_score >= ? AND d.quality_score < ?',
          args: [q.datasetId, s.min, s.max],
          order: ['d.quality_score', 'd.id'],
          keyOf: keyFromDoc('d.quality_score AS k, d.id'),
        }
        break
      case 'cluster':
        sql = {
          from: base,
          where: 'd.dup_cluster = ? AND d.dataset_id = ?',
          args: [s.cluster, q.datasetId],
          order: ['d.id'],
          keyOf: (id) => [id],
        }
        break
      case 'status':
        sql = {
          from: base,
          where: 'd.dataset_id = ? AND d.status = ?',
          args: [q.datasetId, s.status],
          order: ['d.id'],
          keyOf: (id) => [id],
        }
        break
      case 'all':
        sql = {
          from: base,
          where: 'd.dataset_id = ?',
          args: [q.datasetId],
          order: ['d.id'],
          keyOf: (id) => [id],
        }
        break
    }
    const fts = q.search ? ftsQuery(q.search) : null
    if (fts) {
      // Few matches: walk them and sort. Many: walk the queue's order index and test each
      // row (the unary + stops SQLite from driving the query from the matches instead).
      const { table, rows } = this.searchTable(fts)
      sql.where += ` AND ${rows > 5000 ? '+' : ''}d.id IN (SELECT id FROM ${table})`
    }
    return sql
  }

  /**
   * A temporary table of the documents matching a full-text query. A search of common
   * words matches half a million documents; asking FTS5 again on every step would cost a
   * second, a lookup in this table costs microseconds. Rebuilt when documents were added
   * or cleaned since; the last few searches are kept (temporary tables live and die with
   * this connection).
   */
  private searchTable(fts: string): { table: string; rows: number } {
    const version = this.db
      .prepare<[], { docs: number | null; runs: number | null }>(
        `SELECT (SELECT max(id) FROM documents) AS docs,
           (SELECT max(id) FROM clean_runs WHERE state = 'done') AS runs`,
      )
      .get()!
    const key = `${fts}|${version.docs}|${version.runs}`
    const cached = this.searches.get(key)
    if (cached) {
      // Most recently used last.
      this.searches.delete(key)
      this.searches.set(key, cached)
      return cached
    }
    const table = `temp.review_search_${Date.now().toString(36)}_${this.searches.size}`
    this.db.exec(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY)`)
    const rows = this.db
      .prepare(`INSERT INTO ${table} SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?`)
      .run(fts).changes
    const entry = { table, rows }
    this.searches.set(key, entry)
    while (this.searches.size > 8) {
      const [oldest, old] = this.searches.entries().next().value as [
        string,
        { table: string; rows: number },
      ]
      this.db.exec(`DROP TABLE IF EXISTS ${old.table}`)
      this.searches.delete(oldest)
    }
    return entry
  }

  /** Documents in a queue, and how many still lack a reviewer's decision. */
  counts(q: Queue): QueueCounts {
    const { from, where, args } = this.queueSql(q)
    const row = this.db
      .prepare<unknown[], { total: number; remaining: number | null }>(
        `SELECT COUNT(*) AS total, SUM(l.decision IS NULL) AS remaining FROM ${from} WHERE ${where}`,
      )
      .get(...args)!
    return { total: row.total, remaining: row.remaining ?? 0 }
  }

  /** A page of a queue, in its order, for the queue list. */
  members(q: Queue, offset: number, limit: number): QueueMember[] {
    const { from, where, args, order } = this.queueSql(q)
    return this.db
      .prepare<
        unknown[],
        {
          id: number
          preview: string
          status: QueueMember['status']
          quality_score: number | null
          decision: ReviewDecision | null
        }
      >(
        `SELECT d.id, substr(coalesce(d.cleaned_text, d.text), 1, ${PREVIEW_CHARS}) AS preview,
           d.status, d.quality_score, l.decision
         FROM ${from} WHERE ${where} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`,
      )
      .all(...args, limit, offset)
      .map((r) => ({
        id: r.id,
        preview: r.preview,
        status: r.status,
        qualityScore: r.quality_score,
        decision: r.decision,
      }))
  }

  private isMember(q: Queue, id: number): boolean {
    const { from, where, args } = this.queueSql(q)
    return (
      this.db.prepare(`SELECT 1 FROM ${from} WHERE ${where} AND d.id = ?`).get(...args, id) !==
      undefined
    )
  }

  /**
   * The document to show when moving through a queue from `from`:
   * - at: `from` itself, if it is a member (a document picked from the queue list);
   * - first: the queue's first document; resume: where the reviewer last was (or the first
   *   undecided one);
   * - next / prev: the neighbour in queue order, decided or not;
   * - nextUnreviewed: the next undecided one, wrapping around to the start (so skipped
   *   documents come back), never `from` itself.
   * Null when there is none.
   */
  step(q: Queue, from: number | null, direction: StepDirection): number | null {
    const sql = this.queueSql(q)
    const ord = (desc: boolean) => sql.order.map((c) => `${c}${desc ? ' DESC' : ''}`).join(', ')
    const first = (unreviewed: boolean, exclude: number | null) =>
      this.db
        .prepare<unknown[], { id: number }>(
          `SELECT d.id FROM ${sql.from} WHERE ${sql.where}
           ${unreviewed ? 'AND l.decision IS NULL' : ''} ${exclude !== null ? 'AND d.id != ?' : ''}
           ORDER BY ${ord(false)} LIMIT 1`,
        )
        .get(...sql.args, ...(exclude !== null ? [exclude] : []))?.id ?? null
    if (direction === 'first') return first(false, null)
    if (direction === 'at') return from !== null && this.isMember(q, from) ? from : null
    if (direction === 'resume') {
      const saved = this.position(q.datasetId, q)
      if (saved !== null && this.isMember(q, saved)) return saved
      return first(true, null) ?? first(false, null)
    }
    if (from === null)
      return direction === 'prev' ? null : first(direction === 'nextUnreviewed', null)
    const key = sql.keyOf(from)
    if (!key) return direction === 'prev' ? null : first(direction === 'nextUnreviewed', from)
    // Keyset seeks, written so each is an index range (SQLite does not range-scan an
    // expression index through a row-value comparison): with order (k, id), first the rest
    // of k's ties, then the next k.
    const neighbour = (desc: boolean, unreviewed: boolean): number | null => {
      const cmp = desc ? '<' : '>'
      const seek = (cond: string, args: unknown[], order: string) =>
        this.db
          .prepare<unknown[], { id: number }>(
            `SELECT d.id FROM ${sql.from} WHERE ${sql.where} AND ${cond}
             ${unreviewed ? 'AND l.decision IS NULL' : ''} ORDER BY ${order} LIMIT 1`,
          )
          .get(...sql.args, ...args)?.id ?? null
      if (sql.order.length === 1) return seek(`${sql.order[0]} ${cmp} ?`, key, ord(desc))
      const [k, tie] = sql.order
      return (
        seek(`${k} = ? AND ${tie} ${cmp} ?`, key, `${tie}${desc ? ' DESC' : ''}`) ??
        seek(`${k} ${cmp} ?`, [key[0]], ord(desc))
      )
    }
    if (direction === 'next') return neighbour(false, false)
    if (direction === 'prev') return neighbour(true, false)
    return neighbour(false, true) ?? first(true, from)
  }

  /* ------------------------------------------------------------- positions */

  position(datasetId: number, q: Pick<Queue, 'source' | 'search'>): number | null {
    return (
      this.db
        .prepare<[number, string], { document_id: number }>(
          'SELECT document_id FROM review_positions WHERE dataset_id = ? AND queue = ?',
        )
        .get(datasetId, queueKey(q))?.document_id ?? null
    )
  }

  savePosition(q: Queue, documentId: number, now: string): void {
    this.db
      .prepare(
        `INSERT INTO review_positions (dataset_id, queue, document_id, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (dataset_id, queue) DO UPDATE SET document_id = excluded.document_id,
           updated_at = excluded.updated_at`,
      )
      .run(q.datasetId, queueKey(q), documentId, now)
  }

  /* --------------------------------------------------------------- actions */

  /** Set (or clear) the reviewer's decision on one document. */
  decide(documentId: number, decision: ReviewDecision | null, now: string): ReviewAction | null {
    const datasetId = this.datasetOf(documentId)
    const verb = decision === 'keep' ? 'Kept' : decision === 'remove' ? 'Removed' : 'Cleared'
    return this.apply(
      datasetId,
      { field: 'decision', labelId: null, summary: `${verb} #${documentId}`, documentId },
      decision,
      oneDocument(documentId),
      now,
    )
  }

  /** Put a label on a document or take it off. */
  setLabel(documentId: number, labelId: number, on: boolean, now: string): ReviewAction | null {
    const datasetId = this.datasetOf(documentId)
    const label = this.labelIn(datasetId, labelId)
    return this.apply(
      datasetId,
      {
        field: 'label',
        labelId,
        summary: `${on ? 'Labelled' : 'Unlabelled'} #${documentId} "${label.name}"`,
        documentId,
      },
      on ? '1' : '0',
      oneDocument(documentId),
      now,
    )
  }

  hasLabel(documentId: number, labelId: number): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM document_tags WHERE document_id = ? AND label_id = ?')
        .get(documentId, labelId) !== undefined
    )
  }

  setNote(documentId: number, note: string, now: string): ReviewAction | null {
    const datasetId = this.datasetOf(documentId)
    return this.apply(
      datasetId,
      { field: 'note', labelId: null, summary: `Note on #${documentId}`, documentId },
      note,
      oneDocument(documentId),
      now,
    )
  }

  /** How many documents of a queue a bulk change would change. */
  bulkPreview(q: Queue, change: BulkChange): number {
    const target = this.queueSql(q)
    const { before, after } = this.fieldValues(
      change.field === 'label' ? change.labelId : null,
      change,
    )
    return (
      this.db
        .prepare<unknown[], { n: number }>(
          `SELECT COUNT(*) AS n FROM ${target.from} WHERE ${target.where} AND ${before} IS NOT ?`,
        )
        .get(...target.args, after)?.n ?? 0
    )
  }

  /** Apply a change to every document of a queue: one action, undone in one step. */
  bulk(q: Queue, change: BulkChange, now: string): ReviewAction | null {
    const target = this.queueSql(q)
    let summary: string
    if (change.field === 'decision') {
      summary =
        change.decision === null
          ? 'Cleared the decisions of'
          : `${change.decision === 'keep' ? 'Kept' : 'Removed'}`
    } else {
      const label = this.labelIn(q.datasetId, change.labelId)
      summary = `${change.on ? 'Labelled' : 'Unlabelled'} "${label.name}" on`
    }
    const value = change.field === 'decision' ? change.decision : change.on ? '1' : '0'
    return this.apply(
      q.datasetId,
      {
        field: change.field,
        labelId: change.field === 'label' ? change.labelId : null,
        summary: `${summary} {n} documents`,
        documentId: null,
      },
      value,
      { from: target.from, where: target.where, args: target.args },
      now,
    )
  }

  /** The newest action that undo would revert, and the oldest that redo would re-apply. */
  history(datasetId: number): { undo: ReviewAction | null; redo: ReviewAction | null } {
    const pick = (sql: string) => this.db.prepare<[number], ActionRow>(sql).get(datasetId)
    const undo = pick(
      'SELECT * FROM review_actions WHERE dataset_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1',
    )
    const redo = pick(
      'SELECT * FROM review_actions WHERE dataset_id = ? AND undone = 1 ORDER BY id LIMIT 1',
    )
    return { undo: undo ? toAction(undo) : null, redo: redo ? toAction(redo) : null }
  }

  /** Revert the newest action. Null when there is nothing to undo. */
  undo(datasetId: number, now: string): ReviewAction | null {
    return writeTransaction(this.db, () => {
      const row = this.db
        .prepare<[number], ActionRow>(
          'SELECT * FROM review_actions WHERE dataset_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1',
        )
        .get(datasetId)
      if (!row) return null
      this.write(row.field, row.label_id, datasetId, row.id, 'before', now)
      this.db.prepare('UPDATE review_actions SET undone = 1 WHERE id = ?').run(row.id)
      return toAction(row)
    })
  }

  /** Re-apply the action undone last. Null when there is nothing to redo. */
  redo(datasetId: number, now: string): ReviewAction | null {
    return writeTransaction(this.db, () => {
      const row = this.db
        .prepare<[number], ActionRow>(
          'SELECT * FROM review_actions WHERE dataset_id = ? AND undone = 1 ORDER BY id LIMIT 1',
        )
        .get(datasetId)
      if (!row) return null
      this.write(row.field, row.label_id, datasetId, row.id, 'after', now)
      this.db.prepare('UPDATE review_actions SET undone = 0 WHERE id = ?').run(row.id)
      return toAction(row)
    })
  }

  /**
   * Record an action over `target` (only documents whose value changes) and apply it, in
   * one transaction. Discards the redo stack. Null when nothing would change.
   */
  private apply(
    datasetId: number,
    action: {
      field: ReviewAction['field']
      labelId: number | null
      summary: string
      documentId: number | null
    },
    value: string | null,
    target: Target,
    now: string,
  ): ReviewAction | null {
    return writeTransaction(this.db, () => {
      this.db
        .prepare('DELETE FROM review_actions WHERE dataset_id = ? AND undone = 1')
        .run(datasetId)
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO review_actions (dataset_id, field, label_id, summary, document_id, documents, created_at)
             VALUES (?, ?, ?, ?, ?, 0, ?)`,
          )
          .run(datasetId, action.field, action.labelId, action.summary, action.documentId, now)
          .lastInsertRowid,
      )
      const { before } = this.fieldValues(action.labelId, { field: action.field })
      const n = this.db
        .prepare(
          `INSERT INTO review_action_items (action_id, document_id, before, after)
           SELECT ?, d.id, ${before}, ? FROM ${target.from}
           WHERE ${target.where} AND ${before} IS NOT ?`,
        )
        .run(id, value, ...target.args, value).changes
      if (n === 0) {
        this.db.prepare('DELETE FROM review_actions WHERE id = ?').run(id)
        return null
      }
      const summary = action.summary.replace('{n}', n.toLocaleString('en'))
      this.db
        .prepare('UPDATE review_actions SET documents = ?, summary = ? WHERE id = ?')
        .run(n, summary, id)
      this.write(action.field, action.labelId, datasetId, id, 'after', now)
      return toAction({
        id,
        field: action.field,
        label_id: action.labelId,
        summary,
        document_id: action.documentId,
        documents: n,
        created_at: now,
      })
    })
  }

  /** The SQL for a field's current value on `d` (joined with `l`), as stored in items. */
  private fieldValues(
    labelId: number | null,
    change: { field: ReviewAction['field']; decision?: ReviewDecision | null; on?: boolean },
  ): { before: string; after: string | null } {
    if (change.field === 'decision') return { before: 'l.decision', after: change.decision ?? null }
    if (change.field === 'note') return { before: "coalesce(l.note, '')", after: null }
    return {
      before: `(CASE WHEN EXISTS (SELECT 1 FROM document_tags t2 WHERE t2.document_id = d.id
                 AND t2.label_id = ${Number(labelId)}) THEN '1' ELSE '0' END)`,
      after: change.on ? '1' : '0',
    }
  }

  /** Write one side (`before` or `after`) of an action's items into the documents. */
  private write(
    field: ReviewAction['field'],
    labelId: number | null,
    datasetId: number,
    actionId: number,
    side: 'before' | 'after',
    now: string,
  ): void {
    const items = `SELECT document_id AS id, ${side} AS v FROM review_action_items WHERE action_id = ?`
    if (field === 'decision') {
      this.db
        .prepare(
          `INSERT INTO document_decisions (document_id, dataset_id, decision, note, updated_at)
           SELECT x.id, ?, x.v, '', ? FROM (${items}) AS x WHERE true
           ON CONFLICT (document_id) DO UPDATE SET decision = excluded.decision,
             updated_at = excluded.updated_at`,
        )
        .run(datasetId, now, actionId)
      this.db
        .prepare(
          `UPDATE documents SET status = ${STATUS_FROM_DECISION}, decided_by = ${DECIDER_FROM_DECISION}
           FROM (${items}) AS x WHERE documents.id = x.id`,
        )
        .run(actionId)
    } else if (field === 'note') {
      this.db
        .prepare(
          `INSERT INTO document_decisions (document_id, dataset_id, decision, note, updated_at)
           SELECT x.id, ?, NULL, x.v, ? FROM (${items}) AS x WHERE true
           ON CONFLICT (document_id) DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at`,
        )
        .run(datasetId, now, actionId)
    } else {
      this.db
        .prepare(
          `INSERT OR IGNORE INTO document_tags (document_id, label_id, created_at)
           SELECT x.id, ?, ? FROM (${items}) AS x WHERE x.v = '1'`,
        )
        .run(labelId, now, actionId)
      this.db
        .prepare(
          `DELETE FROM document_tags WHERE label_id = ?
           AND document_id IN (SELECT x.id FROM (${items}) AS x WHERE x.v = '0')`,
        )
        .run(labelId, actionId)
    }
  }

  private datasetOf(documentId: number): number {
    const row = this.db
      .prepare<[number], { dataset_id: number }>('SELECT dataset_id FROM documents WHERE id = ?')
      .get(documentId)
    if (!row) throw new UserError('not_found', `There is no document ${documentId}.`, 'documentId')
    return row.dataset_id
  }

  private labelIn(datasetId: number, labelId: number): { name: string } {
    const label = this.db
      .prepare<[number, number], { name: string }>(
        'SELECT name FROM label_defs WHERE id = ? AND dataset_id = ?',
      )
      .get(labelId, datasetId)
    if (!label) throw new UserError('not_found', `This dataset has no label ${labelId}.`, 'labelId')
    return label
  }

  /* --------------------------------------------------------------- samples */

  /**
   * A random sample of what the pipeline kept or removed (its own verdict, whatever a
   * reviewer said since), in a random order fixed by the seed.
   */
  createSample(
    datasetId: number,
    of: 'kept' | 'removed',
    size: number,
    seed: number,
    now: string,
  ): SampleSummary {
    return writeTransaction(this.db, () => {
      const ids = this.db
        .prepare<[number, string], { id: number }>(
          'SELECT id FROM documents WHERE dataset_id = ? AND auto_status = ? ORDER BY id',
        )
        .all(datasetId, of)
        .map((r) => r.id)
      if (ids.length === 0)
        throw new UserError(
          'invalid_params',
          `The cleaning ${of === 'kept' ? 'kept' : 'removed'} no documents in this dataset: there is nothing to sample.`,
          'of',
        )
      // A partial Fisher-Yates shuffle: the first `n` places are a uniform random sample.
      const n = Math.min(size, ids.length)
      const rng = new Rng(seed)
      for (let i = 0; i < n; i++) {
        const j = i + rng.int(ids.length - i)
        ;[ids[i], ids[j]] = [ids[j], ids[i]]
      }
      const sampleId = Number(
        this.db
          .prepare(
            'INSERT INTO review_samples (dataset_id, of_status, size, seed, created_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(datasetId, of, n, seed, now).lastInsertRowid,
      )
      const insert = this.db.prepare(
        'INSERT INTO review_sample_docs (sample_id, position, document_id) VALUES (?, ?, ?)',
      )
      for (let i = 0; i < n; i++) insert.run(sampleId, i, ids[i])
      return this.samples(datasetId).find((s) => s.id === sampleId)!
    })
  }

  samples(datasetId: number): SampleSummary[] {
    return this.db
      .prepare<
        [number],
        {
          id: number
          of_status: 'kept' | 'removed'
          size: number
          reviewed: number
          created_at: string
        }
      >(
        `SELECT s.id, s.of_status, s.size, s.created_at,
           (SELECT COUNT(*) FROM review_sample_docs x JOIN document_decisions l ON l.document_id = x.document_id
            WHERE x.sample_id = s.id AND l.decision IS NOT NULL) AS reviewed
         FROM review_samples s WHERE s.dataset_id = ? ORDER BY s.id DESC`,
      )
      .all(datasetId)
      .map((r) => ({
        id: r.id,
        of: r.of_status,
        size: r.size,
        reviewed: r.reviewed,
        createdAt: r.created_at,
      }))
  }

  deleteSample(id: number): void {
    this.db.prepare('DELETE FROM review_samples WHERE id = ?').run(id)
  }

  /* -------------------------------------------------------------- progress */

  /** Deciders with how many documents each removed or flagged. */
  deciders(datasetId: number): { rule: DeciderId; documents: number }[] {
    return this.db
      .prepare<[number], { rule: DeciderId; documents: number }>(
        `SELECT decision_rule AS rule, COUNT(*) AS documents FROM documents
         WHERE dataset_id = ? AND decision_rule IS NOT NULL GROUP BY decision_rule ORDER BY documents DESC`,
      )
      .all(datasetId)
  }

  progress(datasetId: number, now: Date): ReviewProgress {
    const counts = this.db
      .prepare<
        [number],
        {
          keep: number | null
          remove: number | null
          compared: number | null
          agreed: number | null
        }
      >(
        `SELECT SUM(l.decision = 'keep') AS keep, SUM(l.decision = 'remove') AS remove,
           SUM(d.auto_status IN ('kept', 'removed')) AS compared,
           SUM((l.decision = 'keep' AND d.auto_status = 'kept')
             OR (l.decision = 'remove' AND d.auto_status = 'removed')) AS agreed
         FROM document_decisions l JOIN documents d ON d.id = l.document_id
         WHERE l.dataset_id = ? AND l.decision IS NOT NULL`,
      )
      .get(datasetId)!
    // The rate over the last hour of decisions: from the first decision in that hour to now.
    const since = new Date(now.getTime() - 3_600_000).toISOString()
    const recent = this.db
      .prepare<[number, string], { n: number; first: string | null }>(
        `SELECT COUNT(*) AS n, min(created_at) AS first FROM review_actions
         WHERE dataset_id = ? AND field = 'decision' AND undone = 0 AND created_at > ?`,
      )
      .get(datasetId, since)!
    const elapsedHours = recent.first
      ? (now.getTime() - new Date(recent.first).getTime()) / 3_600_000
      : 0
    const keep = counts.keep ?? 0
    const remove = counts.remove ?? 0
    return {
      reviewed: keep + remove,
      keep,
      remove,
      ratePerHour: elapsedHours >= 2 / 60 ? Math.round(recent.n / elapsedHours) : null,
      agreement: { compared: counts.compared ?? 0, agreed: counts.agreed ?? 0 },
    }
  }

  /* ---------------------------------------------------------------- export */

  /** Every reviewed document (a decision, a label or a note), for the JSONL export. */
  *exportRows(datasetId: number): Generator<{
    id: number
    source: string
    decision: ReviewDecision | null
    automatic: string | null
    status: string
    labels: string[]
    note: string
    reviewed_at: string
  }> {
    const rows = this.db
      .prepare<
        [number],
        {
          id: number
          source: string
          decision: ReviewDecision | null
          auto_status: string | null
          status: string
          labels: string | null
          note: string
          updated_at: string
        }
      >(
        `SELECT d.id, d.source, l.decision, d.auto_status, d.status, coalesce(l.note, '') AS note,
           max(coalesce(l.updated_at, ''), coalesce((SELECT max(t.created_at) FROM document_tags t
             WHERE t.document_id = d.id), '')) AS updated_at,
           (SELECT json_group_array(x.name) FROM (SELECT ld.name FROM document_tags t
              JOIN label_defs ld ON ld.id = t.label_id WHERE t.document_id = d.id ORDER BY ld.position) x) AS labels
         FROM documents d LEFT JOIN document_decisions l ON l.document_id = d.id
         WHERE d.dataset_id = ? AND (l.decision IS NOT NULL OR coalesce(l.note, '') != ''
           OR EXISTS (SELECT 1 FROM document_tags t WHERE t.document_id = d.id))
         ORDER BY d.id`,
      )
      .iterate(datasetId)
    for (const r of rows)
      yield {
        id: r.id,
        source: r.source,
        decision: r.decision,
        automatic: r.auto_status,
        status: r.status,
        labels: r.labels ? (JSON.parse(r.labels) as string[]) : [],
        note: r.note,
        reviewed_at: r.updated_at,
      }
  }
}

function oneDocument(id: number): Target {
  return {
    from: 'documents d LEFT JOIN document_decisions l ON l.document_id = d.id',
    where: 'd.id = ?',
    args: [id],
  }
}
