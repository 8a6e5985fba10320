import { type Db, writeTransaction } from '../database'
import { decodeTensor, encodeTensor, type TensorEncoding } from '../tensor-codec'

export interface CheckpointInfo {
  id: number
  runId: string
  step: number
  kind: 'full' | 'delta'
  baseId: number | null
  reason: string
  rawBytes: number
  storedBytes: number
  trainLoss: number | null
  valLoss: number | null
  createdAt: string
}

export interface NewCheckpoint {
  runId: string
  step: number
  reason: string
  /** Everything but the tensors (configs, RNG states, ...), as JSON. */
  state: unknown
  tensors: Map<string, { shape: number[]; values: Float32Array }>
  trainLoss: number | null
  valLoss: number | null
  createdAt: string
  /** Every this many checkpoints a full one; in between, deltas against the last full. */
  fullEvery: number
}

interface Raw {
  id: number
  run_id: string
  step: number
  kind: 'full' | 'delta'
  base_id: number | null
  reason: string
  raw_bytes: number
  stored_bytes: number
  train_loss: number | null
  val_loss: number | null
  created_at: string
}

const toInfo = (r: Raw): CheckpointInfo => ({
  id: r.id,
  runId: r.run_id,
  step: r.step,
  kind: r.kind,
  baseId: r.base_id,
  reason: r.reason,
  rawBytes: r.raw_bytes,
  storedBytes: r.stored_bytes,
  trainLoss: r.train_loss,
  valLoss: r.val_loss,
  createdAt: r.created_at,
})

/**
 * Checkpoints: one row of state plus one row per tensor. A delta stores each tensor as
 * the XOR of its float bits against the run's last full checkpoint (lossless), so a
 * restore reads at most two checkpoints.
 */
export class CheckpointsRepo {
  constructor(private readonly db: Db) {}

  /** Encode and store (in one transaction); returns the new checkpoint. */
  write(c: NewCheckpoint): CheckpointInfo {
    const runs = this.list(c.runId)
    const lastFull = [...runs].reverse().find((r) => r.kind === 'full') ?? null
    const sinceFull = lastFull ? runs.filter((r) => r.id > lastFull.id).length : Infinity
    const base = lastFull && sinceFull + 1 < c.fullEvery ? lastFull : null
    const baseTensors = base ? this.tensors(base.id) : null
    let raw = 0
    let stored = 0
    const encoded: { name: string; shape: number[]; encoding: TensorEncoding; data: Buffer }[] = []
    for (const [name, t] of c.tensors) {
      const e = encodeTensor(t.values, baseTensors?.get(name)?.values)
      raw += t.values.byteLength
      stored += e.data.length
      encoded.push({ name, shape: t.shape, ...e })
    }
    const insertTensor = this.db.prepare(
      'INSERT INTO checkpoint_tensors (checkpoint_id, name, shape, encoding, data) VALUES (?, ?, ?, ?, ?)',
    )
    const id = writeTransaction(this.db, () => {
      const info = this.db
        .prepare(
          `INSERT INTO checkpoints (run_id, step, kind, base_id, reason, state, raw_bytes, stored_bytes, train_loss, val_loss, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          c.runId,
          c.step,
          base ? 'delta' : 'full',
          base?.id ?? null,
          c.reason,
          JSON.stringify(c.state),
          raw,
          stored,
          c.trainLoss,
          c.valLoss,
          c.createdAt,
        )
      const checkpointId = Number(info.lastInsertRowid)
      for (const t of encoded)
        insertTensor.run(checkpointId, t.name, JSON.stringify(t.shape), t.encoding, t.data)
      return checkpointId
    })
    return this.get(id)!
  }

  count(runId: string): number {
    return this.db
      .prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM checkpoints WHERE run_id = ?')
      .get(runId)!.n
  }

  list(runId: string): CheckpointInfo[] {
    return this.db
      .prepare<[string], Raw>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, id')
      .all(runId)
      .map(toInfo)
  }

  get(id: number): CheckpointInfo | null {
    const r = this.db.prepare<[number], Raw>('SELECT * FROM checkpoints WHERE id = ?').get(id)
    return r ? toInfo(r) : null
  }

  latest(runId: string): CheckpointInfo | null {
    const r = this.db
      .prepare<[string], Raw>(
        'SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1',
      )
      .get(runId)
    return r ? toInfo(r) : null
  }

  state(id: number): unknown {
    const r = this.db
      .prepare<[number], { state: string }>('SELECT state FROM checkpoints WHERE id = ?')
      .get(id)
    return r ? (JSON.parse(r.state) as unknown) : null
  }

  /** Every tensor of a checkpoint, decoded (deltas resolved against their base). */
  tensors(id: number): Map<string, { shape: number[]; values: Float32Array }> {
    const info = this.get(id)
    if (!info) throw new Error(`There is no checkpoint ${id}.`)
    const base = info.baseId !== null ? this.tensors(info.baseId) : null
    const out = new Map<string, { shape: number[]; values: Float32Array }>()
    const rows = this.db
      .prepare<[number], { name: string; shape: string; encoding: TensorEncoding; data: Buffer }>(
        'SELECT name, shape, encoding, data FROM checkpoint_tensors WHERE checkpoint_id = ?',
      )
      .all(id)
    for (const r of rows) {
      const shape = JSON.parse(r.shape) as number[]
      const size = shape.reduce((a, b) => a * b, 1)
      out.set(r.name, {
        shape,
        values: decodeTensor(
          { encoding: r.encoding, data: r.data },
          size,
          base?.get(r.name)?.values,
        ),
      })
    }
    return out
  }

  /**
   * Keep the newest `keep` checkpoints of a run (and the full ones they depend on, and any
   * a fork or an initialized run started from, a distilling run learns from, or a curriculum is scored by); delete the rest. Returns how many were deleted.
   */
  prune(runId: string, keep: number): number {
    const all = this.list(runId)
    const kept = new Set(all.slice(-keep).map((c) => c.id))
    for (const c of all) if (kept.has(c.id) && c.baseId !== null) kept.add(c.baseId)
    // Runs forked from a checkpoint, or started from its weights, read it when they start.
    const forkedFrom = this.db
      .prepare<[], { id: number }>(
        `SELECT parent_checkpoint_id AS id FROM runs WHERE parent_checkpoint_id IS NOT NULL
         UNION SELECT init_checkpoint_id FROM runs WHERE init_checkpoint_id IS NOT NULL
         UNION SELECT teacher_checkpoint_id FROM runs WHERE teacher_checkpoint_id IS NOT NULL
         UNION SELECT reference_checkpoint_id FROM runs WHERE reference_checkpoint_id IS NOT NULL`,
      )
      .all()
    for (const f of forkedFrom) {
      const c = all.find((x) => x.id === f.id)
      if (c) {
        kept.add(c.id)
        if (c.baseId !== null) kept.add(c.baseId)
      }
    }
    const doomed = all.filter((c) => !kept.has(c.id)).map((c) => c.id)
    if (doomed.length) {
      this.db
        .prepare(`DELETE FROM checkpoints WHERE id IN (${doomed.map(() => '?').join(',')})`)
        .run(...doomed)
    }
    return doomed.length
  }
}
