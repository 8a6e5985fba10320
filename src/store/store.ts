import { existsSync, statSync } from 'node:fs'
import { basename, extname } from 'node:path'
import { FRUGAL_APPLICATION_ID, openDatabase, type Db } from './database'
import { migrate, schemaVersion } from './migrate'
import { migrations } from './migrations'
import { DatasetsRepo } from './repos/datasets'
import { JobsRepo } from './repos/jobs'
import { MetaRepo } from './repos/meta'
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

  private constructor(
    readonly path: string,
    readonly db: Db,
  ) {
    this.meta = new MetaRepo(db)
    this.jobs = new JobsRepo(db)
    this.datasets = new DatasetsRepo(db)
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

  get schemaVersion(): number {
    return schemaVersion(this.db)
  }

  info(): ProjectInfo {
    const counts = this.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM datasets) AS datasets,
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
