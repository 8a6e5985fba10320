import { existsSync, statSync } from 'node:fs'
import { basename, extname } from 'node:path'
import { FRUGAL_APPLICATION_ID, openDatabase, writeTransaction, type Db } from './database'
import { migrate, schemaVersion } from './migrate'
import { migrations } from './migrations'
import { ScoreIndexes } from './score-indexes'
import { DatasetsRepo, NOT_DELETING } from './repos/datasets'
import { JobsRepo } from './repos/jobs'
import { MetaRepo } from './repos/meta'
import { CleanRunsRepo } from './repos/clean-runs'
import { DataStatsRepo } from './repos/data-stats'
import { DocumentQueries } from './repos/document-queries'
import { DocumentsRepo } from './repos/documents'
import { DedupCandidates } from './repos/dedup-candidates'
import { ImportsRepo } from './repos/imports'
import { DecisionsRepo } from './repos/decisions'
import { EvalsRepo } from './repos/evals'
import { TeacherCachesRepo } from './repos/teacher-caches'
import { CurriculumScoresRepo } from './repos/curriculum-scores'
import { ReferenceLogprobsRepo } from './repos/reference-logprobs'
import { RatingsRepo } from './repos/ratings'
import { ReviewRepo } from './repos/review'
import { QualityModelsRepo } from './repos/quality-models'
import { RuleSetsRepo } from './repos/rule-sets'
import { CheckpointsRepo } from './repos/checkpoints'
import { RunsRepo } from './repos/runs'
import { TokenizersRepo } from './repos/tokenizers'
import { TokenSetsRepo } from './repos/token-sets'
import { UserError } from '../shared/errors'
import type { ProjectInfo } from '../shared/types'

export interface StoreOptions {
  /** See OpenDatabaseOptions.nativeBinding. */
  nativeBinding?: string
  /** Version of the app writing the file, recorded at creation. */
  appVersion?: string
  now?: () => Date
}

/**
 * A Frugal project: one SQLite file, migrated to the current schema, with a typed
 * repository per concept. Main, serve and worker processes each hold their own Store.
 */
export class Store {
  readonly meta: MetaRepo
  readonly jobs: JobsRepo
  readonly datasets: DatasetsRepo
  // The data pipeline (migration 002).
  readonly documents: DocumentsRepo
  readonly documentQueries: DocumentQueries
  readonly imports: ImportsRepo
  readonly cleanRuns: CleanRunsRepo
  readonly ruleSets: RuleSetsRepo
  readonly decisions: DecisionsRepo
  readonly qualityModels: QualityModelsRepo
  readonly dataStats: DataStatsRepo
  readonly tokenizers: TokenizersRepo
  readonly tokenSets: TokenSetsRepo
  readonly runs: RunsRepo
  readonly checkpoints: CheckpointsRepo
  // The review workspace (migration 004).
  readonly review: ReviewRepo
  readonly ratings: RatingsRepo
  // Evaluations (migration 005).
  readonly evals: EvalsRepo
  readonly teacherCaches: TeacherCachesRepo
  readonly curriculumScores: CurriculumScoresRepo
  readonly referenceLogprobs: ReferenceLogprobsRepo
  readonly scoreIndexes: ScoreIndexes

  private constructor(
    readonly path: string,
    private readonly db: Db,
  ) {
    this.meta = new MetaRepo(db)
    this.jobs = new JobsRepo(db)
    this.datasets = new DatasetsRepo(db)
    this.documents = new DocumentsRepo(db)
    this.documentQueries = new DocumentQueries(db)
    this.imports = new ImportsRepo(db)
    this.cleanRuns = new CleanRunsRepo(db)
    this.ruleSets = new RuleSetsRepo(db)
    this.decisions = new DecisionsRepo(db)
    this.qualityModels = new QualityModelsRepo(db)
    this.dataStats = new DataStatsRepo(db, this.cleanRuns, this.qualityModels, this.decisions)
    this.tokenizers = new TokenizersRepo(db)
    this.tokenSets = new TokenSetsRepo(db)
    this.runs = new RunsRepo(db)
    this.checkpoints = new CheckpointsRepo(db)
    this.review = new ReviewRepo(db)
    this.ratings = new RatingsRepo(db)
    this.evals = new EvalsRepo(db)
    this.teacherCaches = new TeacherCachesRepo(db)
    this.curriculumScores = new CurriculumScoresRepo(db)
    this.referenceLogprobs = new ReferenceLogprobsRepo(db)
    this.scoreIndexes = new ScoreIndexes(db)
  }

  /** Open an existing project, migrating it if it predates this version. */
  static open(path: string, options: StoreOptions = {}): Store {
    const db = openDatabase(path, { create: false, ...pick(options) })
    try {
      const appId = db.pragma('application_id', { simple: true }) as number
      if (appId !== FRUGAL_APPLICATION_ID) {
        throw new UserError(
          'invalid_params',
          `${path} is a SQLite database, but not a Frugal project.`,
          'path',
        )
      }
      migrate(db, migrations, options.now)
      return new Store(path, db)
    } catch (err) {
      db.close()
      throw err
    }
  }

  /** Create a new, empty project file. Refuses to overwrite anything. */
  static create(path: string, options: StoreOptions = {}): Store {
    if (existsSync(path)) {
      throw new UserError(
        'conflict',
        `${path} already exists. Choose another name, or open it instead.`,
        'path',
      )
    }
    const db = openDatabase(path, { create: true, ...pick(options) })
    try {
      db.pragma(`application_id = ${FRUGAL_APPLICATION_ID}`)
      migrate(db, migrations, options.now)
      const store = new Store(path, db)
      store.meta.set('created_at', (options.now ?? (() => new Date()))().toISOString())
      store.meta.set('created_by', `Frugal ${options.appVersion ?? 'dev'}`)
      return store
    } catch (err) {
      db.close()
      throw err
    }
  }

  /**
   * Copy the whole file to `path` with SQLite's online backup API: consistent even while
   * other connections write. Reports the fraction copied before each step.
   */
  async copyTo(path: string, onProgress?: (fraction: number) => void): Promise<void> {
    await this.db.backup(path, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress?.(totalPages ? 1 - remainingPages / totalPages : 1)
        return 256 // pages per step: small steps keep the event loop responsive
      },
    })
  }

  /** Temporary tables for one cleaning run's duplicate candidates, `bands` LSH bands each. */
  dedupCandidates(bands: number): DedupCandidates {
    return new DedupCandidates(this.db, bands)
  }

  /** SQLite's structural check of the whole file: the problems it found, none when sound. */
  structureProblems(): string[] {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .filter((m) => m !== 'ok')
  }

  /** Rows whose foreign key points at a row that does not exist (SQLite's foreign_key_check). */
  brokenReferences(): { table: string; rowid: number; parent: string }[] {
    return this.db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]
  }

  get schemaVersion(): number {
    return schemaVersion(this.db)
  }

  /** Runs `body` in one write transaction (BEGIN IMMEDIATE; see writeTransaction). */
  write<T>(body: () => T): T {
    return writeTransaction(this.db, body)
  }

  info(): ProjectInfo {
    const counts = this.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM datasets d WHERE ${NOT_DELETING}) AS datasets,
                (SELECT COUNT(*) FROM documents) AS documents,
                (SELECT COUNT(*) FROM jobs) AS jobs`,
      )
      .get() as ProjectInfo['counts']
    return {
      path: this.path,
      name: basename(this.path, extname(this.path)),
      sizeBytes: fileSize(this.path) + fileSize(`${this.path}-wal`),
      schemaVersion: this.schemaVersion,
      createdAt: this.meta.get('created_at') ?? '',
      counts,
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

function pick(options: StoreOptions): { nativeBinding?: string } {
  return options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}
}

function fileSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}
