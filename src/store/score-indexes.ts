import { type Db, writeTransaction } from './database'

/**
 * The two document indexes in quality-score order, which make the review queue's next
 * document an index seek (migration 004 created them; the definitions below are the
 * same, which store.test checks).
 *
 * Why a job may drop them: a cleaning run gives every document a new score, and each
 * score lands at a random place in both indexes. Committed 256 documents at a time, every
 * commit rewrote most of their pages, a cost that grows with the dataset: at 1 GB the
 * clean job's thread spent 67 s of CPU writing results with them against 31 s without.
 * So a run over most of a project drops them first and builds them again at its end,
 * one sort each. A run that dies in between leaves them missing (queries stay correct,
 * only slower); whoever next finds no run writing (CleanRunsRepo.failOrphans, at a
 * project's opening and a clean's start) builds them again.
 */
const SCORE_INDEXES = {
  documents_review_uncertain: `CREATE INDEX IF NOT EXISTS documents_review_uncertain ON documents
    (dataset_id, auto_status, coalesce(abs(quality_score - 0.5), 1), id)`,
  documents_by_score: `CREATE INDEX IF NOT EXISTS documents_by_score ON documents
    (dataset_id, quality_score, id)`,
}
const NAMES = Object.keys(SCORE_INDEXES)

/** Score indexes that do not exist now. */
export function missingScoreIndexes(db: Db): string[] {
  const present = new Set(
    db.prepare<[], string>(`SELECT name FROM sqlite_master WHERE type = 'index'`).pluck().all(),
  )
  return NAMES.filter((name) => !present.has(name))
}

export function dropScoreIndexes(db: Db): void {
  writeTransaction(db, () => {
    for (const name of NAMES) db.exec(`DROP INDEX IF EXISTS ${name}`)
  })
}

/**
 * Build whichever score index is missing. Reads first: when both exist (the usual case)
 * it writes nothing, so it never waits on another connection's write.
 */
export function ensureScoreIndexes(db: Db): void {
  const missing = missingScoreIndexes(db)
  if (missing.length === 0) return
  writeTransaction(db, () => {
    for (const name of missing) db.exec(SCORE_INDEXES[name as keyof typeof SCORE_INDEXES])
  })
}

/** The score indexes of one project file (see above for when a job sets them aside). */
export class ScoreIndexes {
  constructor(private readonly db: Db) {}

  /** The names of those that do not exist now. */
  missing(): string[] {
    return missingScoreIndexes(this.db)
  }

  drop(): void {
    dropScoreIndexes(this.db)
  }

  /** Build whichever is missing; writes nothing when both exist. */
  ensure(): void {
    ensureScoreIndexes(this.db)
  }
}
