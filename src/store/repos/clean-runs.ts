import type { Db } from '../database'
import { ensureScoreIndexes } from '../score-indexes'
import { fromJson } from '../json'
import type { CleanSummary } from '../../shared/data/types'
import type { RuleSet } from '../../shared/data/rules'

export interface CleanRunRecord {
  id: number
  datasetId: number
  state: 'running' | 'done' | 'failed' | 'cancelled'
  startedAt: string
  finishedAt: string | null
  rules: RuleSet
  summary: CleanSummary | null
}

interface Row {
  id: number
  dataset_id: number
  state: CleanRunRecord['state']
  started_at: string
  finished_at: string | null
  rules: string
  summary: string | null
}

const toRecord = (r: Row): CleanRunRecord => ({
  id: r.id,
  datasetId: r.dataset_id,
  state: r.state,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  rules: JSON.parse(r.rules) as RuleSet,
  summary: fromJson<CleanSummary>(r.summary),
})

/** Runs of the cleaning pipeline, with the exact rules each used. */
export class CleanRunsRepo {
  constructor(private readonly db: Db) {}

  begin(datasetId: number, jobId: string, ownerPid: number, rules: RuleSet, now: string): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO clean_runs (dataset_id, job_id, owner_pid, rules, state, started_at)
           VALUES (?, ?, ?, ?, 'running', ?)`,
        )
        .run(datasetId, jobId, ownerPid, JSON.stringify(rules), now).lastInsertRowid,
    )
  }

  finish(
    id: number,
    state: 'done' | 'failed' | 'cancelled',
    summary: CleanSummary | null,
    now: string,
  ): void {
    this.db
      .prepare('UPDATE clean_runs SET state = ?, summary = ?, finished_at = ? WHERE id = ?')
      .run(state, summary ? JSON.stringify(summary) : null, now, id)
  }

  latest(datasetId: number): CleanRunRecord | null {
    const row = this.db
      .prepare<[number], Row>(
        'SELECT * FROM clean_runs WHERE dataset_id = ? ORDER BY id DESC LIMIT 1',
      )
      .get(datasetId)
    return row ? toRecord(row) : null
  }

  /** The last run that finished, or null. */
  lastDone(datasetId: number): CleanRunRecord | null {
    const row = this.db
      .prepare<[number], Row>(
        `SELECT * FROM clean_runs WHERE dataset_id = ? AND state = 'done' ORDER BY id DESC LIMIT 1`,
      )
      .get(datasetId)
    return row ? toRecord(row) : null
  }

  running(datasetId: number): boolean {
    return !!this.db
      .prepare(`SELECT 1 FROM clean_runs WHERE dataset_id = ? AND state = 'running'`)
      .get(datasetId)
  }

  /** Whether a run other than `runId` is in progress, on any dataset. */
  othersRunning(runId: number): boolean {
    return !!this.db
      .prepare(`SELECT 1 FROM clean_runs WHERE state = 'running' AND id != ?`)
      .get(runId)
  }

  /**
   * Runs left 'running' by a process that is gone are marked failed; then, with no run
   * left in progress, the score indexes a run may have dropped are built again.
   */
  failOrphans(isAlive: (pid: number) => boolean, now: string): number {
    const rows = this.db
      .prepare<[], { id: number; owner_pid: number }>(
        `SELECT id, owner_pid FROM clean_runs WHERE state = 'running'`,
      )
      .all()
    const orphans = rows.filter((r) => !isAlive(r.owner_pid))
    for (const r of orphans) this.finish(r.id, 'failed', null, now)
    if (orphans.length === rows.length) ensureScoreIndexes(this.db)
    return orphans.length
  }
}
