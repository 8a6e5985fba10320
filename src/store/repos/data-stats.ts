import type { Db } from '../database'
import type { DeciderId } from '../../shared/data/rules'
import {
  documentStatuses,
  type DataDatasetSummary,
  type DatasetStats,
  type DocumentStatus,
  type RedactionType,
} from '../../shared/data/types'
import type { CleanRunsRepo } from './clean-runs'
import { NOT_DELETING } from './datasets'
import type { DecisionsRepo } from './decisions'
import type { QualityModelsRepo } from './quality-models'

const BINS = 20

function emptyCounts(): Record<DocumentStatus, number> {
  return Object.fromEntries(documentStatuses.map((s) => [s, 0])) as Record<DocumentStatus, number>
}

/** Dataset statistics, computed by SQL over the documents (nothing is cached to go stale). */
export class DataStatsRepo {
  constructor(
    private readonly db: Db,
    private readonly cleanRuns: CleanRunsRepo,
    private readonly models: QualityModelsRepo,
    private readonly decisions: DecisionsRepo,
  ) {}

  /** Every ready dataset with its counts by status. */
  summaries(): DataDatasetSummary[] {
    const datasets = this.db
      .prepare<[], { id: number; name: string; createdAt: string; ruleSetId: number | null }>(
        `SELECT id, name, created_at AS createdAt, rule_set_id AS ruleSetId FROM datasets d
         WHERE state = 'ready' AND ${NOT_DELETING} ORDER BY created_at DESC, id DESC`,
      )
      .all()
    const counts = this.db
      .prepare<[], { dataset_id: number; status: DocumentStatus; n: number; chars: number }>(
        `SELECT dataset_id, status, COUNT(*) AS n, SUM(char_count) AS chars FROM documents
         GROUP BY dataset_id, status`,
      )
      .all()
    const cleaned = this.db
      .prepare<[], { dataset_id: number; at: string }>(
        `SELECT dataset_id, MAX(finished_at) AS at FROM clean_runs WHERE state = 'done' GROUP BY dataset_id`,
      )
      .all()
    return datasets.map((d) => {
      const mine = counts.filter((c) => c.dataset_id === d.id)
      const byStatus = emptyCounts()
      for (const c of mine) byStatus[c.status] = c.n
      return {
        ...d,
        documents: mine.reduce((n, c) => n + c.n, 0),
        characters: mine.reduce((n, c) => n + c.chars, 0),
        counts: byStatus,
        cleanedAt: cleaned.find((c) => c.dataset_id === d.id)?.at ?? null,
      }
    })
  }

  /** Documents with a status ('all': every one). */
  countStatus(datasetId: number, status: DocumentStatus | 'all'): number {
    const where = status === 'all' ? '' : 'AND status = ?'
    return (
      this.db
        .prepare<unknown[], { n: number }>(
          `SELECT COUNT(*) AS n FROM documents WHERE dataset_id = ? ${where}`,
        )
        .get(...(status === 'all' ? [datasetId] : [datasetId, status]))?.n ?? 0
    )
  }

  stats(datasetId: number): DatasetStats {
    const db = this.db
    const byStatus = db
      .prepare<
        [number],
        { status: DocumentStatus; n: number; chars: number; tokens: number; modified: number }
      >(
        `SELECT status, COUNT(*) AS n, SUM(char_count) AS chars, SUM(token_estimate) AS tokens,
           SUM(modified) AS modified
         FROM documents WHERE dataset_id = ? GROUP BY status`,
      )
      .all(datasetId)
    const counts = emptyCounts()
    for (const r of byStatus) counts[r.status] = r.n
    const sum = (rows: typeof byStatus, key: 'n' | 'chars' | 'tokens') =>
      rows.reduce((n, r) => n + (r[key] ?? 0), 0)
    const kept = byStatus.filter((r) => r.status === 'kept')

    const languages = db
      .prepare<[number], { language: string; documents: number }>(
        `SELECT language, COUNT(*) AS documents FROM documents
         WHERE dataset_id = ? AND language IS NOT NULL GROUP BY language ORDER BY documents DESC LIMIT 25`,
      )
      .all(datasetId)

    const ruleRows = db
      .prepare<[number], { rule: DeciderId; status: string; n: number }>(
        `SELECT decision_rule AS rule, auto_status AS status, COUNT(*) AS n FROM documents
         WHERE dataset_id = ? AND decision_rule IS NOT NULL GROUP BY decision_rule, auto_status`,
      )
      .all(datasetId)
    const byRuleMap = new Map<DeciderId, { rule: DeciderId; removed: number; review: number }>()
    for (const r of ruleRows) {
      const entry = byRuleMap.get(r.rule) ?? { rule: r.rule, removed: 0, review: 0 }
      if (r.status === 'removed') entry.removed += r.n
      if (r.status === 'review') entry.review += r.n
      byRuleMap.set(r.rule, entry)
    }
    const byRule = [...byRuleMap.values()].sort(
      (a, b) => b.removed + b.review - (a.removed + a.review),
    )

    const bins = db
      .prepare<[number], { bin: number; n: number }>(
        `SELECT MIN(CAST(quality_score * ${BINS} AS INTEGER), ${BINS - 1}) AS bin, COUNT(*) AS n
         FROM documents WHERE dataset_id = ? AND quality_score IS NOT NULL GROUP BY bin`,
      )
      .all(datasetId)
    const scoreHistogram = Array.from({ length: BINS }, (_, i) => ({
      from: i / BINS,
      to: (i + 1) / BINS,
      count: bins.find((b) => b.bin === i)?.n ?? 0,
    }))

    const dup = db
      .prepare<[number], { clusters: number; removed: number }>(
        `SELECT COUNT(DISTINCT dup_cluster) AS clusters,
           SUM(decision_rule IN ('dedup_exact', 'dedup_near') AND auto_status = 'removed') AS removed
         FROM documents WHERE dataset_id = ? AND dup_cluster IS NOT NULL`,
      )
      .get(datasetId)
    const largest = db
      .prepare<[number], { clusterId: number; size: number; preview: string }>(
        `SELECT c.dup_cluster AS clusterId, c.size, substr(coalesce(d.cleaned_text, d.text), 1, 160) AS preview
         FROM (SELECT dup_cluster, COUNT(*) AS size FROM documents
               WHERE dataset_id = ? AND dup_cluster IS NOT NULL GROUP BY dup_cluster
               ORDER BY size DESC, dup_cluster LIMIT 10) c
         JOIN documents d ON d.id = c.dup_cluster ORDER BY c.size DESC, c.dup_cluster`,
      )
      .all(datasetId)

    const redactionRows = db
      .prepare<[number], { kind: RedactionType; n: number }>(
        `SELECT json_extract(r.value, '$.type') AS kind, COUNT(*) AS n
         FROM documents d, json_each(d.redactions) r
         WHERE d.dataset_id = ? AND d.redactions IS NOT NULL GROUP BY kind`,
      )
      .all(datasetId)

    const lastRun = this.cleanRuns.latest(datasetId)
    const model = this.models.latest(datasetId)
    return {
      datasetId,
      documents: sum(byStatus, 'n'),
      characters: sum(byStatus, 'chars'),
      estimatedTokens: sum(byStatus, 'tokens'),
      kept: {
        documents: sum(kept, 'n'),
        characters: sum(kept, 'chars'),
        estimatedTokens: sum(kept, 'tokens'),
      },
      counts,
      modified: byStatus
        .filter((r) => r.status === 'kept')
        .reduce((n, r) => n + (r.modified ?? 0), 0),
      languages,
      byRule,
      scoreHistogram,
      duplicates: { clusters: dup?.clusters ?? 0, removed: dup?.removed ?? 0, largest },
      redactions: Object.fromEntries(redactionRows.map((r) => [r.kind, r.n])),
      lastClean: lastRun
        ? {
            at: lastRun.finishedAt ?? lastRun.startedAt,
            state: lastRun.state,
            summary: lastRun.summary,
          }
        : null,
      model,
      decisions: this.decisions.counts(datasetId),
      decisionsSinceModel: this.decisions.changedSince(datasetId, model?.createdAt ?? null),
    }
  }
}
