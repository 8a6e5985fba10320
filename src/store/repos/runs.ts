import { type Db, writeTransaction } from '../database'
import { UserError } from '../../shared/errors'

export type RunStatus = 'created' | 'running' | 'paused' | 'stopped' | 'completed' | 'failed'

export interface RunRow {
  id: string
  name: string
  status: RunStatus
  modelConfig: unknown
  trainConfig: unknown
  data: unknown
  tokenSetId: number | null
  backend: string | null
  /** The process training it while 'running' (a dead one means the run crashed). */
  ownerPid: number | null
  parentRunId: string | null
  parentCheckpointId: number | null
  step: number
  tokensSeen: number
  wallMs: number
  trainLoss: number | null
  bestValLoss: number | null
  error: string | null
  createdAt: string
  updatedAt: string
}

interface Raw {
  id: string
  name: string
  status: RunStatus
  model_config: string
  train_config: string
  data: string
  token_set_id: number | null
  backend: string | null
  owner_pid: number | null
  parent_run_id: string | null
  parent_checkpoint_id: number | null
  step: number
  tokens_seen: number
  wall_ms: number
  train_loss: number | null
  best_val_loss: number | null
  error: string | null
  created_at: string
  updated_at: string
}

const toRow = (r: Raw): RunRow => ({
  id: r.id,
  name: r.name,
  status: r.status,
  modelConfig: JSON.parse(r.model_config) as unknown,
  trainConfig: JSON.parse(r.train_config) as unknown,
  data: JSON.parse(r.data) as unknown,
  tokenSetId: r.token_set_id,
  backend: r.backend,
  ownerPid: r.owner_pid,
  parentRunId: r.parent_run_id,
  parentCheckpointId: r.parent_checkpoint_id,
  step: r.step,
  tokensSeen: r.tokens_seen,
  wallMs: r.wall_ms,
  trainLoss: r.train_loss,
  bestValLoss: r.best_val_loss,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export interface MetricPoint {
  name: string
  step: number
  value: number
}

/** A stored vector metric (float32 bytes), copied out of SQLite's buffer. */
const vectorOf = (bytes: Buffer) => new Float32Array(new Uint8Array(bytes).buffer)

/** Training runs and their metrics. */
export class RunsRepo {
  constructor(private readonly db: Db) {}

  create(
    run: Pick<
      RunRow,
      | 'id'
      | 'name'
      | 'modelConfig'
      | 'trainConfig'
      | 'data'
      | 'tokenSetId'
      | 'parentRunId'
      | 'parentCheckpointId'
    >,
    now: string,
  ): RunRow {
    this.db
      .prepare(
        `INSERT INTO runs (id, name, status, model_config, train_config, data, token_set_id, parent_run_id, parent_checkpoint_id, created_at, updated_at)
         VALUES (?, ?, 'created', ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.id,
        run.name,
        JSON.stringify(run.modelConfig),
        JSON.stringify(run.trainConfig),
        JSON.stringify(run.data),
        run.tokenSetId,
        run.parentRunId,
        run.parentCheckpointId,
        now,
        now,
      )
    return this.get(run.id)!
  }

  get(id: string): RunRow | null {
    const r = this.db.prepare<[string], Raw>('SELECT * FROM runs WHERE id = ?').get(id)
    return r ? toRow(r) : null
  }

  require(id: string): RunRow {
    const run = this.get(id)
    if (!run) throw new UserError('not_found', `There is no run "${id}".`, 'run')
    return run
  }

  list(): RunRow[] {
    return this.db.prepare<[], Raw>('SELECT * FROM runs ORDER BY created_at DESC').all().map(toRow)
  }

  update(id: string, patch: Partial<Omit<RunRow, 'id' | 'createdAt'>>, now: string): void {
    const columns: Record<string, string> = {
      name: 'name',
      status: 'status',
      trainConfig: 'train_config',
      backend: 'backend',
      ownerPid: 'owner_pid',
      step: 'step',
      tokensSeen: 'tokens_seen',
      wallMs: 'wall_ms',
      trainLoss: 'train_loss',
      bestValLoss: 'best_val_loss',
      error: 'error',
    }
    const sets: string[] = []
    const values: unknown[] = []
    for (const [key, value] of Object.entries(patch)) {
      const col = columns[key]
      if (!col) throw new Error(`runs.update cannot set ${key}`)
      sets.push(`${col} = ?`)
      values.push(key === 'trainConfig' ? JSON.stringify(value) : value)
    }
    sets.push('updated_at = ?')
    this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, now, id)
  }

  addMetrics(
    runId: string,
    points: readonly MetricPoint[],
    vectors: readonly { name: string; step: number; value: Float32Array }[] = [],
  ): void {
    const scalar = this.db.prepare(
      'INSERT OR REPLACE INTO metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)',
    )
    const vector = this.db.prepare(
      'INSERT OR REPLACE INTO metric_vectors (run_id, name, step, value) VALUES (?, ?, ?, ?)',
    )
    writeTransaction(this.db, () => {
      for (const p of points)
        if (Number.isFinite(p.value)) scalar.run(runId, p.name, p.step, p.value)
      for (const v of vectors)
        vector.run(
          runId,
          v.name,
          v.step,
          Buffer.from(v.value.buffer, v.value.byteOffset, v.value.byteLength),
        )
    })
  }

  /**
   * Forget metrics of steps after `step` (steps count completed steps, so a checkpoint at
   * step 8 includes step 8's metrics): a resumed run rewrites what follows its checkpoint.
   */
  truncateMetricsAfter(runId: string, step: number): void {
    writeTransaction(this.db, () => {
      this.db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step)
      this.db.prepare('DELETE FROM metric_vectors WHERE run_id = ? AND step > ?').run(runId, step)
    })
  }

  /** One metric's points in step order. */
  metric(runId: string, name: string): { step: number; value: number }[] {
    return this.db
      .prepare<[string, string], { step: number; value: number }>(
        'SELECT step, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step',
      )
      .all(runId, name)
  }

  metricNames(runId: string): string[] {
    return this.db
      .prepare<[string], { name: string }>(
        'SELECT DISTINCT name FROM metrics WHERE run_id = ? ORDER BY name',
      )
      .all(runId)
      .map((r) => r.name)
  }

  vectors(runId: string, name: string): { step: number; value: Float32Array }[] {
    return this.db
      .prepare<[string, string], { step: number; value: Buffer }>(
        'SELECT step, value FROM metric_vectors WHERE run_id = ? AND name = ? ORDER BY step',
      )
      .all(runId, name)
      .map((r) => ({ step: r.step, value: vectorOf(r.value) }))
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id)
  }

  /** Points a run at the encoded corpus it trains on (not an edit: updated_at stays). */
  setTokenSet(runId: string, tokenSetId: number): void {
    this.db.prepare('UPDATE runs SET token_set_id = ? WHERE id = ?').run(tokenSetId, runId)
  }

  /** How many runs train with the tokenizer. */
  countUsingTokenizer(tokenizerId: number): number {
    return this.db
      .prepare<[number], { n: number }>(
        `SELECT COUNT(*) AS n FROM runs WHERE json_extract(data, '$.tokenizerId') = ?`,
      )
      .get(tokenizerId)!.n
  }

  /** The last step any scalar metric of the run was logged at; 0 before the first. */
  lastMetricStep(runId: string): number {
    return (
      this.db
        .prepare<[string], { s: number | null }>(
          'SELECT MAX(step) AS s FROM metrics WHERE run_id = ?',
        )
        .get(runId)?.s ?? 0
    )
  }

  /**
   * The metric's minimum or maximum in each bucket of `bucket` steps (1-`bucket`,
   * `bucket`+1-2·`bucket`, …), each with the step it was logged at (SQLite returns the other
   * columns of the row that holds the MIN or MAX).
   */
  metricExtremes(
    runId: string,
    name: string,
    bucket: number,
    extreme: 'MIN' | 'MAX',
  ): { step: number; value: number }[] {
    const size = Math.max(1, Math.floor(bucket))
    return this.db
      .prepare<[string, string], { step: number; value: number }>(
        `SELECT step, ${extreme === 'MIN' ? 'MIN' : 'MAX'}(value) AS value FROM metrics
          WHERE run_id = ? AND name = ? GROUP BY (step - 1) / ${size}`,
      )
      .all(runId, name)
  }

  /** The metric's value at the last step it was logged at, or null. */
  latestMetric(runId: string, name: string): number | null {
    return (
      this.db
        .prepare<[string, string], { value: number }>(
          'SELECT value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step DESC LIMIT 1',
        )
        .get(runId, name)?.value ?? null
    )
  }

  /** Names of the run's vector metrics that start with `prefix`. */
  vectorNames(runId: string, prefix: string): string[] {
    return this.db
      .prepare<[string, number, string], { name: string }>(
        'SELECT DISTINCT name FROM metric_vectors WHERE run_id = ? AND substr(name, 1, ?) = ?',
      )
      .all(runId, prefix.length, prefix)
      .map((r) => r.name)
  }

  /** The last step any vector metric of the run was logged at; 0 before the first. */
  lastVectorStep(runId: string): number {
    return (
      this.db
        .prepare<[string], { s: number | null }>(
          'SELECT MAX(step) AS s FROM metric_vectors WHERE run_id = ?',
        )
        .get(runId)?.s ?? 0
    )
  }

  /** The vector metric at every `stride`-th step (steps divisible by it), in step order. */
  vectorsEvery(
    runId: string,
    name: string,
    stride: number,
  ): { step: number; value: Float32Array }[] {
    return this.db
      .prepare<[string, string, number], { step: number; value: Buffer }>(
        'SELECT step, value FROM metric_vectors WHERE run_id = ? AND name = ? AND step % ? = 0 ORDER BY step',
      )
      .all(runId, name, Math.max(1, Math.floor(stride)))
      .map((r) => ({ step: r.step, value: vectorOf(r.value) }))
  }
}
