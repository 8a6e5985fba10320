import { type Db, writeTransaction } from '../database'
import type { AutoStatus, DecidedBy, RuleOutcome } from '../../shared/data/types'
import type { DeciderId } from '../../shared/data/rules'
import { SearchIndex } from './search-index'

export interface ImportedDocument {
  source: string
  text: string
  meta: Record<string, unknown> | null
  charCount: number
  tokenEstimate: number
}

/** One document's outcome of a cleaning run, as the clean job writes it. */
export interface CleanedDocument {
  id: number
  /** Null when cleaning left the text unchanged: the column then stays empty (readers coalesce). */
  cleanedText: string | null
  autoStatus: AutoStatus
  decidedBy: Exclude<DecidedBy, 'reviewer'>
  decisionRule: DeciderId | null
  modified: boolean
  /** JSON of the document's RuleOutcome[] (in pipeline order) and Redaction[] (null: none). */
  reasons: string
  redactions: string | null
  language: string | null
  languageScore: number | null
  qualityScore: number | null
  charCount: number
  tokenEstimate: number
  contentHash: string
}

/** A document of a duplicate cluster: the kept one, or a duplicate removed with its outcome. */
export interface ClusterRow {
  id: number
  /** The kept document's id. */
  cluster: number
  duplicate: { similarity: number; outcome: RuleOutcome } | null
}

/** A document with the cleaning's verdict and, when a reviewer gave one, their label. */
export interface DecisionRow {
  id: number
  text: string
  decisionRule: string | null
  autoStatus: string | null
  /** The reviewer's keep/remove label, or null. */
  decision: string | null
}

export interface ExportRow {
  id: number
  source: string
  text: string
  cleaned_text: string | null
  status: string
  reasons: string | null
  language: string | null
  quality_score: number | null
  meta: string | null
}

/** UPDATE's parameters for one cleaned document, in the statement's order. */
type CleanRow = [
  cleanedText: string | null,
  status: string,
  autoStatus: string,
  decidedBy: string,
  decisionRule: string | null,
  modified: number,
  reasons: string,
  redactions: string | null,
  language: string | null,
  languageScore: number | null,
  qualityScore: number | null,
  charCount: number,
  tokenEstimate: number,
  contentHash: string,
  id: number,
]

/** Where a reviewer's decision is kept, status follows it; otherwise the pipeline's. */
const statusUnlessReviewed = (param: string) =>
  `CASE WHEN decided_by = 'reviewer' THEN status ELSE ${param} END`
const deciderUnlessReviewed = (param: string) =>
  `CASE WHEN decided_by = 'reviewer' THEN 'reviewer' ELSE ${param} END`
const STATUS_UNLESS_REVIEWED = statusUnlessReviewed('@status')
const DECIDER_UNLESS_REVIEWED = deciderUnlessReviewed('@decidedBy')

/** The automatic decider behind a decision rule (for restoring it when a label is cleared). */
export function deciderOf(rule: string | null): Exclude<DecidedBy, 'reviewer'> {
  if (rule === 'quality') return 'model'
  if (rule === 'dedup_exact' || rule === 'dedup_near') return 'dedup'
  return 'rules'
}

/** Documents: bulk writes from the import and clean jobs, and streaming reads. */
export class DocumentsRepo {
  private readonly insertStmt
  private readonly cleanStmt
  private readonly markKept
  private readonly markDuplicate
  private readonly search: SearchIndex

  constructor(private readonly db: Db) {
    this.search = new SearchIndex(db)
    this.insertStmt = db.prepare(
      `INSERT INTO documents (dataset_id, import_id, source, text, meta, char_count, token_estimate)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    // Positional parameters: binding them costs less than naming them, once per document.
    this.cleanStmt = db.prepare<CleanRow>(
      `UPDATE documents SET cleaned_text = ?, status = ${statusUnlessReviewed('?')},
         auto_status = ?, decided_by = ${deciderUnlessReviewed('?')}, decision_rule = ?,
         modified = ?, reasons = ?, redactions = ?, language = ?, language_score = ?,
         quality_score = ?, char_count = ?, token_estimate = ?, content_hash = ?,
         dup_cluster = NULL, dup_similarity = NULL
       WHERE id = ?`,
    )
    this.markKept = db.prepare(
      'UPDATE documents SET dup_cluster = ?, dup_similarity = 1 WHERE id = ?',
    )
    this.markDuplicate = db.prepare(
      `UPDATE documents SET dup_cluster = @cluster, dup_similarity = @similarity,
         status = ${STATUS_UNLESS_REVIEWED}, auto_status = @status,
         decided_by = ${DECIDER_UNLESS_REVIEWED}, decision_rule = @rule,
         reasons = json_insert(coalesce(reasons, '[]'), '$[#]', json(@outcome))
       WHERE id = @id`,
    )
  }

  /** Insert a batch of documents in one transaction, all or none, and index them for search. */
  insert(datasetId: number, importId: number | null, docs: readonly ImportedDocument[]): void {
    writeTransaction(this.db, () => {
      for (const d of docs) {
        const { lastInsertRowid } = this.insertStmt.run(
          datasetId,
          importId,
          d.source,
          d.text,
          d.meta ? JSON.stringify(d.meta) : null,
          d.charCount,
          d.tokenEstimate,
        )
        this.search.added(Number(lastInsertRowid), d.text)
      }
    })
  }

  /** Write a batch of cleaning outcomes in one transaction. */
  writeCleaned(docs: readonly CleanedDocument[]): void {
    writeTransaction(this.db, () => {
      this.search.cleaned(docs)
      for (const d of docs)
        this.cleanStmt.run(
          d.cleanedText,
          d.autoStatus,
          d.autoStatus,
          d.decidedBy,
          d.decisionRule,
          d.modified ? 1 : 0,
          d.reasons,
          d.redactions,
          d.language,
          d.languageScore,
          d.qualityScore,
          d.charCount,
          d.tokenEstimate,
          d.contentHash,
          d.id,
        )
    })
  }

  /**
   * Mark documents of duplicate clusters, in one transaction: a kept document carries its
   * own id as cluster id (no `duplicate`), the others are removed with their outcome.
   * Callers pass rows in id order: duplicates lie all over the table, and written cluster
   * by cluster the same pages were written again and again.
   */
  writeClusterRows(rows: readonly ClusterRow[]): void {
    writeTransaction(this.db, () => {
      for (const r of rows)
        if (!r.duplicate) this.markKept.run(r.cluster, r.id)
        else
          this.markDuplicate.run({
            id: r.id,
            cluster: r.cluster,
            similarity: r.duplicate.similarity,
            status: 'removed',
            decidedBy: 'dedup',
            rule: r.duplicate.outcome.rule,
            outcome: JSON.stringify(r.duplicate.outcome),
          })
    })
  }

  /** A dataset's documents in id order, `batchSize` at a time (ids above `after`). */
  *texts(
    datasetId: number,
    batchSize: number,
    where = '1',
  ): Generator<{ id: number; text: string }[]> {
    const page = this.db.prepare<[number, number, number], { id: number; text: string }>(
      `SELECT id, text FROM documents WHERE dataset_id = ? AND id > ? AND (${where}) ORDER BY id LIMIT ?`,
    )
    let after = 0
    for (;;) {
      const rows = page.all(datasetId, after, batchSize)
      if (rows.length === 0) return
      yield rows
      after = rows[rows.length - 1].id
    }
  }

  /** Cleaned text and automatic decision, for rescoring with a new quality model. */
  *cleanedBatches(
    datasetId: number,
    batchSize: number,
  ): Generator<
    {
      id: number
      text: string
      decision_rule: string | null
      auto_status: string | null
      reasons: string | null
    }[]
  > {
    const page = this.db.prepare<
      [number, number, number],
      {
        id: number
        text: string
        decision_rule: string | null
        auto_status: string | null
        reasons: string | null
      }
    >(
      `SELECT id, coalesce(cleaned_text, text) AS text, decision_rule, auto_status, reasons
       FROM documents WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT ?`,
    )
    let after = 0
    for (;;) {
      const rows = page.all(datasetId, after, batchSize)
      if (rows.length === 0) return
      yield rows
      after = rows[rows.length - 1].id
    }
  }

  /** A deterministic sample of about `wanted` document ids (hashing the id, not the order). */
  sampleIds(datasetId: number, wanted: number): number[] {
    const total = this.count(datasetId)
    if (total === 0) return []
    const threshold = Math.min(4294967296, Math.ceil((wanted / total) * 4294967296))
    return this.db
      .prepare<[number, number], { id: number }>(
        `SELECT id FROM documents WHERE dataset_id = ?
           AND ((id * 2654435761) % 4294967296) < ? ORDER BY id`,
      )
      .all(datasetId, threshold)
      .map((r) => r.id)
  }

  textsByIds(ids: readonly number[]): { id: number; text: string }[] {
    const stmt = this.db.prepare<[number], { id: number; text: string }>(
      'SELECT id, text FROM documents WHERE id = ?',
    )
    return ids.map((id) => stmt.get(id)).filter((r) => r !== undefined)
  }

  /** Documents in the project, every dataset's. */
  countAll(): number {
    return this.db.prepare<[], number>('SELECT COUNT(*) FROM documents').pluck().get() ?? 0
  }

  count(datasetId: number): number {
    return (
      this.db
        .prepare<[number], { n: number }>(
          'SELECT COUNT(*) AS n FROM documents WHERE dataset_id = ?',
        )
        .get(datasetId)?.n ?? 0
    )
  }

  /** Total characters of a dataset's original text (the clean job's progress total). */
  characters(datasetId: number): number {
    return (
      this.db
        .prepare<[number], { n: number | null }>(
          'SELECT SUM(length(text)) AS n FROM documents WHERE dataset_id = ?',
        )
        .get(datasetId)?.n ?? 0
    )
  }

  /** Update the quality score and, unless a reviewer decided, the model's verdict. */
  writeScores(
    rows: readonly {
      id: number
      score: number
      autoStatus: AutoStatus | null
      decisionRule: DeciderId | null
      reasons: string
    }[],
  ): void {
    const scoreOnly = this.db.prepare(
      'UPDATE documents SET quality_score = ?, reasons = ? WHERE id = ?',
    )
    const withStatus = this.db.prepare(
      `UPDATE documents SET quality_score = @score, reasons = @reasons, auto_status = @status,
         decision_rule = @rule, status = ${STATUS_UNLESS_REVIEWED}, decided_by = ${DECIDER_UNLESS_REVIEWED}
       WHERE id = @id`,
    )
    writeTransaction(this.db, () => {
      for (const r of rows) {
        if (r.autoStatus === null) scoreOnly.run(r.score, r.reasons, r.id)
        else
          withStatus.run({
            id: r.id,
            score: r.score,
            reasons: r.reasons,
            status: r.autoStatus,
            rule: r.decisionRule,
            decidedBy: deciderOf(r.decisionRule),
          })
      }
    })
  }

  /**
   * Sizes of a dataset as a training corpus: how many documents have been cleaned, and the
   * count and UTF-8 bytes of its kept documents (cleaned text) and of all of them (as imported).
   */
  corpusSizes(datasetId: number): {
    cleaned: number
    kept: number
    keptBytes: number
    all: number
    allBytes: number
  } {
    const row = this.db
      .prepare<
        [number],
        {
          cleaned: number | null
          kept: number | null
          kept_bytes: number | null
          all: number
          all_bytes: number | null
        }
      >(
        `SELECT SUM(status <> 'pending') AS cleaned,
                SUM(status = 'kept') AS kept,
                SUM(CASE WHEN status = 'kept' THEN length(CAST(COALESCE(cleaned_text, text) AS BLOB)) END) AS kept_bytes,
                COUNT(*) AS "all", SUM(length(CAST(text AS BLOB))) AS all_bytes
           FROM documents WHERE dataset_id = ?`,
      )
      .get(datasetId)!
    return {
      cleaned: row.cleaned ?? 0,
      kept: row.kept ?? 0,
      keptBytes: row.kept_bytes ?? 0,
      all: row.all,
      allBytes: row.all_bytes ?? 0,
    }
  }

  /**
   * A dataset's texts in document order, read 500 at a time so memory stays flat: its kept
   * documents' cleaned text (`kept`), or every document as imported.
   */
  *corpusTexts(
    datasetId: number,
    which: 'kept' | 'all',
  ): Generator<{ id: number; text: string; source: string }> {
    const page = this.db.prepare<[number, number], { id: number; text: string; source: string }>(
      which === 'kept'
        ? `SELECT id, COALESCE(cleaned_text, text) AS text, source FROM documents
            WHERE dataset_id = ? AND status = 'kept' AND id > ? ORDER BY id LIMIT 500`
        : `SELECT id, text, source FROM documents WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT 500`,
    )
    let after = 0
    for (;;) {
      const rows = page.all(datasetId, after)
      if (rows.length === 0) return
      yield* rows
      after = rows[rows.length - 1].id
    }
  }

  /**
   * What a cleaning decided for a dataset: documents per status and whether the rules
   * modified them, and per rule how many it removed or sent to review (most first).
   */
  outcomeCounts(datasetId: number): {
    byStatus: { status: string; modified: number; n: number }[]
    byRule: { rule: string; n: number }[]
  } {
    return {
      byStatus: this.db
        .prepare<[number], { status: string; modified: number; n: number }>(
          `SELECT status, modified, COUNT(*) AS n FROM documents WHERE dataset_id = ?
           GROUP BY status, modified`,
        )
        .all(datasetId),
      byRule: this.db
        .prepare<[number], { rule: string; n: number }>(
          `SELECT decision_rule AS rule, COUNT(*) AS n FROM documents WHERE dataset_id = ?
             AND decision_rule IS NOT NULL AND auto_status IN ('removed', 'review')
           GROUP BY decision_rule ORDER BY n DESC`,
        )
        .all(datasetId),
    }
  }

  /**
   * Documents as quality-model examples: every document of the dataset a reviewer
   * decided, with the decision, in id order; then those of `sampleIds` not among them, with
   * what the last cleaning decided. Text is the cleaned text where there is one.
   */
  decisionRows(datasetId: number, sampleIds: readonly number[]): DecisionRow[] {
    const rows = this.db
      .prepare<[number], DecisionRow>(
        `SELECT d.id, coalesce(d.cleaned_text, d.text) AS text, d.decision_rule AS decisionRule,
                d.auto_status AS autoStatus, l.decision
         FROM documents d LEFT JOIN document_decisions l ON l.document_id = d.id
         WHERE d.dataset_id = ? AND l.decision IS NOT NULL ORDER BY d.id`,
      )
      .all(datasetId)
    const decided = new Set(rows.map((r) => r.id))
    const one = this.db.prepare<[number], DecisionRow>(
      `SELECT id, coalesce(cleaned_text, text) AS text, decision_rule AS decisionRule,
              auto_status AS autoStatus, NULL AS decision
       FROM documents WHERE id = ?`,
    )
    for (const id of sampleIds)
      if (!decided.has(id)) {
        const row = one.get(id)
        if (row) rows.push(row)
      }
    return rows
  }

  /** Stream documents for export, filtered by status ('kept' includes modified ones). */
  *exportRows(
    datasetId: number,
    status: 'kept' | 'removed' | 'review' | 'all',
  ): Generator<ExportRow> {
    const where = status === 'all' ? '' : 'AND status = ?'
    const stmt = this.db.prepare<unknown[], ExportRow>(
      `SELECT id, source, text, cleaned_text, status, reasons, language, quality_score, meta
       FROM documents WHERE dataset_id = ? ${where} ORDER BY id`,
    )
    yield* stmt.iterate(...(status === 'all' ? [datasetId] : [datasetId, status]))
  }
}
