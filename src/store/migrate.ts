import { type Db, writeTransaction } from './database'
import type { Migration } from './migrations'
import { UserError } from '../shared/errors'

/**
 * Apply the migrations a database lacks, each in its own transaction with its row in
 * `schema_version`, so a crash mid-way leaves the file at the last complete version.
 */
export function migrate(db: Db, migrations: readonly Migration[], now = () => new Date()): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`Migration ${m.name} has version ${m.version}, expected ${i + 1}`)
  })
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`)
  const current = schemaVersion(db)
  const latest = migrations.length
  if (current > latest) {
    throw new UserError(
      'conflict',
      `This project was saved by a newer Frugal (schema ${current}; this version knows up to ${latest}). Update Frugal to open it.`,
    )
  }
  const record = db.prepare(
    'INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)',
  )
  for (const m of migrations.slice(current)) {
    writeTransaction(db, () => {
      if (m.sql) db.exec(m.sql)
      m.up?.(db)
      record.run(m.version, m.name, now().toISOString())
      db.pragma(`user_version = ${m.version}`)
    })
  }
  return latest
}

export function schemaVersion(db: Db): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as {
    v: number | null
  }
  return row.v ?? 0
}
