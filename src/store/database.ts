import Database from 'better-sqlite3'
import { openSync, readSync, closeSync, existsSync, statSync } from 'node:fs'
import { UserError } from '../shared/errors'

export type Db = Database.Database

/** `PRAGMA application_id` of every .frugal file ("FRUG"), so we never adopt a stranger's database. */
export const FRUGAL_APPLICATION_ID = 0x46525547

const SQLITE_HEADER = 'SQLite format 3\0'

export interface OpenDatabaseOptions {
  /** Create the file when missing (project.create); otherwise it must exist. */
  create: boolean
  /**
   * Path of a better-sqlite3 binary built for this runtime. Electron's ABI differs
   * from Node's, so the desktop app passes its own build; Node uses the default.
   */
  nativeBinding?: string
}

/** Is this file a SQLite database? Reads only the 16-byte header. */
export function hasSqliteHeader(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(16)
    const n = readSync(fd, buf, 0, 16, 0)
    return n === 16 && buf.toString('latin1') === SQLITE_HEADER
  } finally {
    closeSync(fd)
  }
}

/** Page size of new project files. */
export const PAGE_SIZE = 16384

/**
 * Run `body` in a transaction that takes the write lock as it begins (BEGIN IMMEDIATE);
 * every transaction in the app goes through here (lint forbids `db.transaction`
 * elsewhere). The app and its worker share the project file, and a deferred transaction
 * that reads before it writes cannot wait for the lock: if the other connection committed
 * in between, SQLite fails it at once with "database is locked". Begun as a writer, it
 * waits up to the busy timeout instead. Nested calls become savepoints.
 */
export function writeTransaction<T>(db: Db, body: () => T): T {
  // eslint-disable-next-line no-restricted-syntax -- the one place transactions begin
  return db.transaction(body).immediate()
}

/**
 * Open a project database with the settings every connection needs: WAL (readers do not
 * block the writer, a crash leaves the file consistent), foreign keys, a busy timeout so
 * the worker and main processes can share the file.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions): Db {
  if (!options.create) {
    if (!existsSync(path)) throw new UserError('not_found', `There is no file at ${path}.`, 'path')
    if (statSync(path).isDirectory())
      throw new UserError('invalid_params', `${path} is a folder, not a project file.`, 'path')
    if (statSync(path).size > 0 && !hasSqliteHeader(path))
      throw new UserError(
        'invalid_params',
        `${path} is not a Frugal project (not a SQLite database).`,
        'path',
      )
  }
  let db: Db
  try {
    db = new Database(path, {
      fileMustExist: !options.create,
      ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
    })
  } catch (err) {
    throw new UserError('io', `Could not open ${path}: ${(err as Error).message}`, 'path')
  }
  try {
    // A new file gets 16 KiB pages (only possible before the first table and before WAL):
    // a document row (text, cleaning reasons) then shares its page with others instead
    // of spilling into overflow pages, which made writing cleaning results about 30%
    // dearer with the 4 KiB default. Existing projects keep their page size.
    if (options.create) db.pragma(`page_size = ${PAGE_SIZE}`)
    db.pragma('journal_mode = WAL')
    // NORMAL is durable against an application crash in WAL mode; only power loss can
    // roll back the last transactions, and the file stays consistent either way.
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 10000')
  } catch (err) {
    db.close()
    throw new UserError('io', `Could not open ${path}: ${(err as Error).message}`, 'path')
  }
  return db
}
