import type { Db } from '../database'
import { fromJson } from '../json'
import type { DeciderId } from '../../shared/data/rules'
import type {
  AutoStatus,
  DecidedBy,
  DocumentDetail,
  DocumentListItem,
  DocumentPage,
  DocumentStatus,
  Redaction,
  RuleOutcome,
} from '../../shared/data/types'

export interface DocumentFilter {
  datasetId: number
  status?: DocumentStatus | undefined
  /** The deciding rule (removed or flagged by it). */
  rule?: DeciderId | undefined
  language?: string | undefined
  cluster?: number | undefined
  modified?: boolean | undefined
  decided?: boolean | undefined
  /** Full-text search over original and cleaned text. */
  search?: string | undefined
  /** Quality score range [min, max). */
  minScore?: number | undefined
  maxScore?: number | undefined
}

export type DocumentSort = 'id' | 'score_asc' | 'score_desc'

interface ListRow {
  id: number
  source: string
  preview: string
  status: DocumentStatus
  decided_by: DecidedBy | null
  decision_rule: DeciderId | null
  modified: number
  language: string | null
  quality_score: number | null
  char_count: number
  dup_cluster: number | null
  decision: 'keep' | 'remove' | null
}

const PREVIEW_CHARS = 240

const LIST_COLUMNS = `d.id, d.source, substr(coalesce(d.cleaned_text, d.text), 1, ${PREVIEW_CHARS}) AS preview,
  d.status, d.decided_by, d.decision_rule, d.modified, d.language, d.quality_score, d.char_count,
  d.dup_cluster, l.decision`

function toItem(r: ListRow): DocumentListItem {
  return {
    id: r.id,
    source: r.source,
    preview: r.preview,
    status: r.status,
    decidedBy: r.decided_by,
    decisionRule: r.decision_rule,
    modified: r.modified === 1,
    language: r.language,
    qualityScore: r.quality_score,
    characters: r.char_count,
    dupCluster: r.dup_cluster,
    decision: r.decision,
  }
}

/**
 * An FTS5 query from what a person typed: split into words the way the index's
 * tokenizer does, each quoted (so nothing is read as an FTS operator) and all required;
 * the last is a prefix, so results follow as one types. The index keeps no positions
 * (detail=column), so a phrase becomes the words of the phrase.
 */
export function ftsQuery(input: string): string | null {
  const words = (input.match(/[\p{L}\p{N}\p{M}]+/gu) ?? []).slice(0, 20)
  if (words.length === 0) return null
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ')
}

/** Read-side queries over documents for the document browser and the "why" panel. */
export class DocumentQueries {
  constructor(private readonly db: Db) {}

  private where(f: DocumentFilter): { sql: string; args: unknown[] } {
    const clauses = ['d.dataset_id = ?']
    const args: unknown[] = [f.datasetId]
    const add = (clause: string, value?: unknown): void => {
      clauses.push(clause)
      if (value !== undefined) args.push(value)
    }
    if (f.status) add('d.status = ?', f.status)
    if (f.rule) add('d.decision_rule = ?', f.rule)
    if (f.language) add('d.language = ?', f.language)
    if (f.cluster !== undefined) add('d.dup_cluster = ?', f.cluster)
    if (f.modified !== undefined) add('d.modified = ?', f.modified ? 1 : 0)
    if (f.decided !== undefined) add(`l.decision IS ${f.decided ? 'NOT NULL' : 'NULL'}`)
    if (f.minScore !== undefined) add('d.quality_score >= ?', f.minScore)
    if (f.maxScore !== undefined) add('d.quality_score < ?', f.maxScore)
    const fts = f.search ? ftsQuery(f.search) : null
    if (fts) add('d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)', fts)
    return { sql: clauses.join(' AND '), args }
  }

  list(filter: DocumentFilter, sort: DocumentSort, offset: number, limit: number): DocumentPage {
    const { sql, args } = this.where(filter)
    const from = `FROM documents d LEFT JOIN document_decisions l ON l.document_id = d.id WHERE ${sql}`
    const order =
      sort === 'score_asc'
        ? 'd.quality_score IS NULL, d.quality_score ASC, d.id'
        : sort === 'score_desc'
          ? 'd.quality_score IS NULL, d.quality_score DESC, d.id'
          : 'd.id'
    const total = (this.db.prepare(`SELECT COUNT(*) AS n ${from}`).get(...args) as { n: number }).n
    const items = this.db
      .prepare<unknown[], ListRow>(
        `SELECT ${LIST_COLUMNS} ${from} ORDER BY ${order} LIMIT ? OFFSET ?`,
      )
      .all(...args, limit, offset)
      .map(toItem)
    return { total, items }
  }

  detail(id: number): DocumentDetail | null {
    const row = this.db
      .prepare<
        [number],
        ListRow & {
          dataset_id: number
          text: string
          cleaned_text: string | null
          auto_status: AutoStatus | null
          reasons: string | null
          redactions: string | null
          language_score: number | null
          dup_similarity: number | null
          meta: string | null
          note: string | null
          reviewed_at: string | null
        }
      >(
        `SELECT ${LIST_COLUMNS}, d.dataset_id, d.text, d.cleaned_text, d.auto_status, d.reasons,
           d.redactions, d.language_score, d.dup_similarity, d.meta, l.note, l.updated_at AS reviewed_at
         FROM documents d LEFT JOIN document_decisions l ON l.document_id = d.id WHERE d.id = ?`,
      )
      .get(id)
    if (!row) return null
    const cluster =
      row.dup_cluster === null
        ? []
        : this.db
            .prepare<
              [number, number],
              { id: number; similarity: number | null; status: DocumentStatus; preview: string }
            >(
              `SELECT id, dup_similarity AS similarity, status,
                 substr(coalesce(cleaned_text, text), 1, ${PREVIEW_CHARS}) AS preview
               FROM documents WHERE dup_cluster = ? AND id != ? ORDER BY id LIMIT 50`,
            )
            .all(row.dup_cluster, id)
    return {
      ...toItem(row),
      datasetId: row.dataset_id,
      text: row.text,
      // Unchanged by cleaning: the cleaned text is the original (stored once).
      cleanedText: row.cleaned_text ?? (row.auto_status === null ? null : row.text),
      autoStatus: row.auto_status,
      reasons: fromJson<RuleOutcome[]>(row.reasons) ?? [],
      redactions: fromJson<Redaction[]>(row.redactions) ?? [],
      languageScore: row.language_score,
      dupSimilarity: row.dup_similarity,
      meta: fromJson<Record<string, unknown>>(row.meta),
      note: row.note ?? '',
      labels: this.db
        .prepare<[number], { label_id: number }>(
          'SELECT label_id FROM document_tags WHERE document_id = ? ORDER BY label_id',
        )
        .all(id)
        .map((r) => r.label_id),
      reviewedAt: row.reviewed_at,
      cluster,
    }
  }
}
