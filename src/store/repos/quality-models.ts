import { type Db, writeTransaction } from '../database'
import type { QualityModelInfo } from '../../shared/data/types'

export interface NewQualityModel {
  datasetId: number
  createdAt: string
  trainedOn: QualityModelInfo['trainedOn']
  examples: number
  decisions: number
  holdout: number
  holdoutAccuracy: number | null
  decisionHoldoutAccuracy: number | null
  config: unknown
  weights: Buffer
}

const INFO = `id, created_at AS createdAt, trained_on AS trainedOn, examples, decisions, holdout,
  holdout_accuracy AS holdoutAccuracy, decision_holdout_accuracy AS decisionHoldoutAccuracy`

/** Fitted quality models; the newest of a dataset scores it. Older ones are kept, a few. */
export class QualityModelsRepo {
  private static readonly KEEP = 5

  constructor(private readonly db: Db) {}

  insert(m: NewQualityModel): QualityModelInfo {
    const id = writeTransaction(this.db, () => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO quality_models (dataset_id, created_at, trained_on, examples, decisions,
               holdout, holdout_accuracy, decision_holdout_accuracy, config, weights)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            m.datasetId,
            m.createdAt,
            m.trainedOn,
            m.examples,
            m.decisions,
            m.holdout,
            m.holdoutAccuracy,
            m.decisionHoldoutAccuracy,
            JSON.stringify(m.config),
            m.weights,
          ).lastInsertRowid,
      )
      this.db
        .prepare(
          `DELETE FROM quality_models WHERE dataset_id = ? AND id NOT IN
             (SELECT id FROM quality_models WHERE dataset_id = ? ORDER BY id DESC LIMIT ?)`,
        )
        .run(m.datasetId, m.datasetId, QualityModelsRepo.KEEP)
      return id
    })
    return this.info(id)!
  }

  info(id: number): QualityModelInfo | null {
    return (
      this.db
        .prepare<[number], QualityModelInfo>(`SELECT ${INFO} FROM quality_models WHERE id = ?`)
        .get(id) ?? null
    )
  }

  latest(datasetId: number): QualityModelInfo | null {
    return (
      this.db
        .prepare<[number], QualityModelInfo>(
          `SELECT ${INFO} FROM quality_models WHERE dataset_id = ? ORDER BY id DESC LIMIT 1`,
        )
        .get(datasetId) ?? null
    )
  }

  /** The dataset's models, newest first (the newest five are kept). */
  list(datasetId: number): QualityModelInfo[] {
    return this.db
      .prepare<[number], QualityModelInfo>(
        `SELECT ${INFO} FROM quality_models WHERE dataset_id = ? ORDER BY id DESC`,
      )
      .all(datasetId)
  }

  weights(id: number): Buffer | null {
    return (
      this.db
        .prepare<[number], { weights: Buffer }>('SELECT weights FROM quality_models WHERE id = ?')
        .get(id)?.weights ?? null
    )
  }
}
