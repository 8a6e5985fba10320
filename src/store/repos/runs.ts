import { z } from 'zod'
import { type Db, writeTransaction } from '../database'
import { UserError } from '../../shared/errors'

export type RunStatus = 'created' | 'running' | 'paused' | 'stopped' | 'completed' | 'failed'

/** A checkpoint another run uses, and the run it belongs to. */
export interface CheckpointRef {
  runId: string
  checkpointId: number
}

/** Where a run's tokens come from and what it builds on. */
export interface RunData {
  /**
   * The dataset it trains on, as it was when the run was made (a run outlives its dataset,
   * which may since be deleted); null when it has none: a model imported from a folder, or
   * a preference run learning from Evaluate's A/B choices alone.
   */
  datasetId: number | null
  tokenizerId: number
  valFraction: number
  /** An imported model: the folder it came from. */
  importedFrom?: string
  /** A new run that starts from another checkpoint's weights (fresh optimizer, step 0). */
  init?: CheckpointRef
  /** Knowledge distillation: the checkpoint whose soft targets the run learns from. */
  teacher?: CheckpointRef
  /** Curriculum learning: the checkpoint whose loss on each window is its difficulty. */
  reference?: CheckpointRef
  /**
   * Fine-tuning: the chat template its conversations are rendered with (its tokenizer's,
   * else Frugal's default), fixed when the run is created and exported with the model.
   */
  chatTemplate?: string
}

/**
 * The part of RunData kept as JSON in `runs.data`; the tokenizer and the checkpoints are
 * columns with foreign keys (migration 011). `tokenizerId` is there only for a run whose
 * tokenizer was gone before that migration.
 */
const storedData = z.object({
  datasetId: z.number().int().nullable(),
  valFraction: z.number(),
  importedFrom: z.string().optional(),
  chatTemplate: z.string().optional(),
  tokenizerId: z.number().int().optional(),
})

export interface RunRow {
  id: string
  name: string
  status: RunStatus
  modelConfig: unknown
  trainConfig: unknown
  data: RunData
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
  tokenizer_id: number | null
  init_checkpoint_id: number | null
  init_run_id: string | null
  teacher_checkpoint_id: number | null
  teacher_run_id: string | null
  reference_checkpoint_id: number | null
  reference_run_id: string | null
}

/** A run's row with the runs its referenced checkpoints belong to. */
const SELECT_RUNS = `
  SELECT r.*, i.run_id AS init_run_id, t.run_id AS teacher_run_id, f.run_id AS reference_run_id
  FROM runs r
  LEFT JOIN checkpoints i ON i.id = r.init_checkpoint_id
  LEFT JOIN checkpoints t ON t.id = r.teacher_checkpoint_id
  LEFT JOIN checkpoints f ON f.id = r.reference_checkpoint_id`

function runData(r: Raw): RunData {
  const stored = storedData.safeParse(JSON.parse(r.data))
  if (!stored.success)
    throw new Error(`Run ${r.id} has unreadable data: ${z.prettifyError(stored.error)}`)
  const { tokenizerId: legacyTokenizer, ...rest } = stored.data
  const tokenizerId = r.tokenizer_id ?? legacyTokenizer
  if (tokenizerId === undefined) throw new Error(`Run ${r.id} names no tokenizer.`)
  const ref = (runId: string | null, checkpointId: number | null): CheckpointRef | undefined =>
    runId !== null && checkpointId !== null ? { runId, checkpointId } : undefined
  const data: RunData = { ...rest, tokenizerId }
  const init = ref(r.init_run_id, r.init_checkpoint_id)
  const teacher = ref(r.teacher_run_id, r.teacher_checkpoint_id)
  const reference = ref(r.reference_run_id, r.reference_checkpoint_id)
  if (init) data.init = init
  if (teacher) data.teacher = teacher
  if (reference) data.reference = reference
  return data
}

const toRow = (r: Raw): RunRow => ({
  id: r.id,
  name: r.name,
  status: r.status,
  modelConfig: JSON.parse(r.model_config) as unknown,
  trainConfig: JSON.parse(r.train_config) as unknown,
  data: runData(r),
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
    const { tokenizerId, init, teacher, reference, ...stored } = run.data
    this.db
      .prepare(
        `INSERT INTO runs (id, name, status, model_config, train_config, data, tokenizer_id,
           init_checkpoint_id, teacher_checkpoint_id, reference_checkpoint_id, token_set_id,
           parent_run_id, parent_checkpoint_id, created_at, updated_at)
         VALUES (?, ?, 'created', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.id,
        run.name,
        JSON.stringify(run.modelConfig),
        JSON.stringify(run.trainConfig),
        JSON.stringify(stored),
        tokenizerId,
        init?.checkpointId ?? null,
        teacher?.checkpointId ?? null,
        reference?.checkpointId ?? null,
        run.tokenSetId,
        run.parentRunId,
        run.parentCheckpointId,
        now,
        now,
      )
    return this.get(run.id)!
  }

  get(id: string): RunRow | null {
    const r = this.db.prepare<[string], Raw>(`${SELECT_RUNS} WHERE r.id = ?`).get(id)
    return r ? toRow(r) : null
  }

  require(id: string): RunRow {
    const run = this.get(id)
    if (!run) throw new UserError('not_found', `There is no run "${id}".`, 'run')
    return run
  }

  list(): RunRow[] {
    return this.db.prepare<[], Raw>(`${SELECT_RUNS} ORDER BY r.created_at DESC`).all().map(toRow)
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

  /**
   * Delete a run with its checkpoints and metrics. Refused while another run starts from,
   * learns from or is scored by one of its checkpoints (the schema refuses it too; this
   * says which run).
   */
  delete(id: string): void {
    const dependent = this.db
      .prepare<[string, string], { name: string; role: string }>(
        `SELECT r.name, CASE
             WHEN c.id = r.init_checkpoint_id THEN 'starts from'
             WHEN c.id = r.teacher_checkpoint_id THEN 'learns from'
             ELSE 'is scored by' END AS role
         FROM runs r JOIN checkpoints c
           ON c.id IN (r.init_checkpoint_id, r.teacher_checkpoint_id, r.reference_checkpoint_id)
         WHERE c.run_id = ? AND r.id <> ? ORDER BY r.created_at LIMIT 1`,
      )
      .get(id, id)
    if (dependent)
      throw new UserError(
        'conflict',
        `Run "${dependent.name}" ${dependent.role} a checkpoint of this run; delete it first.`,
      )
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id)
  }

  /** Points a run at the encoded corpus it trains on (not an edit: updated_at stays). */
  setTokenSet(runId: string, tokenSetId: number): void {
    this.db.prepare('UPDATE runs SET token_set_id = ? WHERE id = ?').run(tokenSetId, runId)
  }

  /** How many runs train with the tokenizer. */
  countUsingTokenizer(tokenizerId: number): number {
    return this.db
      .prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM runs WHERE tokenizer_id = ?')
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
