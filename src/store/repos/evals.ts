import type { Db } from '../database'
import { fromJson } from '../json'

export interface EvalRow {
  id: number
  runId: string
  checkpointId: number | null
  step: number
  kind: 'perplexity' | 'mc'
  params: unknown
  result: unknown
  createdAt: string
}

interface Raw {
  id: number
  run_id: string
  checkpoint_id: number | null
  step: number
  kind: EvalRow['kind']
  params: string
  result: string
  created_at: string
}

/** Evaluation results, per run and checkpoint. */
export class EvalsRepo {
  constructor(private readonly db: Db) {}

  add(e: Omit<EvalRow, 'id'>): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO evals (run_id, checkpoint_id, step, kind, params, result, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          e.runId,
          e.checkpointId,
          e.step,
          e.kind,
          JSON.stringify(e.params),
          JSON.stringify(e.result),
          e.createdAt,
        ).lastInsertRowid,
    )
  }

  /** A run's evaluations, newest first. */
  list(runId: string): EvalRow[] {
    return this.db
      .prepare<[string], Raw>('SELECT * FROM evals WHERE run_id = ? ORDER BY id DESC')
      .all(runId)
      .map((r) => ({
        id: r.id,
        runId: r.run_id,
        checkpointId: r.checkpoint_id,
        step: r.step,
        kind: r.kind,
        params: fromJson(r.params),
        result: fromJson(r.result),
        createdAt: r.created_at,
      }))
  }
}
