import { type Db, writeTransaction } from '../database'
import type { ApiError } from '../../shared/errors'
import type { JobKind, JobLogLine, JobProgress, JobRecord, JobState } from '../../shared/jobs'
import { fromJson, toJson } from '../json'

interface JobRow {
  id: string
  kind: string
  params: string
  state: string
  progress: string | null
  result: string | null
  error: string | null
  owner_pid: number | null
  created_at: string
  started_at: string | null
  finished_at: string | null
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind as JobKind,
    params: fromJson(row.params),
    state: row.state as JobState,
    progress: fromJson<JobProgress>(row.progress),
    result: fromJson(row.result),
    error: fromJson<ApiError>(row.error),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  }
}

/** Job history of a project: what ran, how it ended, and its log. */
export class JobsRepo {
  constructor(private readonly db: Db) {}

  insert(job: JobRecord, ownerPid: number): void {
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, params, state, progress, result, error, owner_pid, created_at, started_at, finished_at)
         VALUES (@id, @kind, @params, @state, @progress, @result, @error, @ownerPid, @createdAt, @startedAt, @finishedAt)`,
      )
      .run({
        id: job.id,
        kind: job.kind,
        params: JSON.stringify(job.params ?? {}),
        state: job.state,
        progress: toJson(job.progress),
        result: toJson(job.result),
        error: toJson(job.error),
        ownerPid,
        createdAt: job.createdAt,
        startedAt: job.startedAt,
        finishedAt: job.finishedAt,
      })
  }

  /** Write the mutable fields of a job (state, progress, outcome, times). */
  update(job: JobRecord): void {
    this.db
      .prepare(
        `UPDATE jobs SET state = @state, progress = @progress, result = @result, error = @error,
           started_at = @startedAt, finished_at = @finishedAt WHERE id = @id`,
      )
      .run({
        id: job.id,
        state: job.state,
        progress: toJson(job.progress),
        result: toJson(job.result),
        error: toJson(job.error),
        startedAt: job.startedAt,
        finishedAt: job.finishedAt,
      })
  }

  get(id: string): JobRecord | null {
    const row = this.db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?').get(id)
    return row ? toRecord(row) : null
  }

  list(options: { states?: readonly JobState[]; limit: number }): JobRecord[] {
    const states = options.states ?? []
    const where = states.length ? `WHERE state IN (${states.map(() => '?').join(',')})` : ''
    return this.db
      .prepare<unknown[], JobRow>(
        `SELECT * FROM jobs ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`,
      )
      .all(...states, options.limit)
      .map(toRecord)
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n
  }

  /**
   * Jobs left queued or running by a process that no longer exists (the app crashed or
   * was killed) are marked failed, so nothing claims to run that does not.
   */
  failOrphans(isAlive: (pid: number) => boolean, now: string): JobRecord[] {
    const rows = this.db
      .prepare<[], JobRow>(`SELECT * FROM jobs WHERE state IN ('queued', 'running')`)
      .all()
      .filter((row) => row.owner_pid === null || !isAlive(row.owner_pid))
    const failed = rows.map((row) => ({
      ...toRecord(row),
      state: 'failed' as const,
      finishedAt: now,
      error: {
        code: 'internal' as const,
        message:
          'Frugal stopped while this job was running (the app was closed, crashed or was killed).',
      },
    }))
    writeTransaction(this.db, () => failed.forEach((job) => this.update(job)))
    return failed
  }

  appendLog(jobId: string, line: JobLogLine): void {
    this.db
      .prepare('INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, ?, ?)')
      .run(jobId, line.at, line.level, line.message)
  }

  logs(jobId: string, limit: number): JobLogLine[] {
    return this.db
      .prepare<[string, number], JobLogLine>(
        'SELECT at, level, message FROM job_logs WHERE job_id = ? ORDER BY id LIMIT ?',
      )
      .all(jobId, limit)
  }

  /**
   * The last `limit` log lines of every training job of a run (its first start and each
   * resume), oldest first; with `query`, only lines that contain it.
   */
  trainingLogs(runId: string, query: string | undefined, limit: number): JobLogLine[] {
    const filter = query ? `AND l.message LIKE '%' || ? || '%'` : ''
    const args: unknown[] = [runId]
    if (query) args.push(query)
    args.push(limit)
    return this.db
      .prepare<unknown[], JobLogLine>(
        `SELECT l.at, l.level, l.message FROM job_logs l JOIN jobs j ON j.id = l.job_id
          WHERE j.kind = 'train.run' AND json_extract(j.params, '$.runId') = ? ${filter}
          ORDER BY l.id DESC LIMIT ?`,
      )
      .all(...args)
      .reverse()
  }
}
