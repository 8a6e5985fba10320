import Database from 'better-sqlite3'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store, backupProject, latestSchemaVersion } from '../../../src/store'
import { FRUGAL_APPLICATION_ID, openDatabase, writeTransaction } from '../../../src/store/database'
import { migrate, schemaVersion } from '../../../src/store/migrate'
import { migrations } from '../../../src/store/migrations'
import { defaultRuleSet } from '../../../src/shared/data/rules'
import { UserError } from '../../../src/shared/errors'
import { useTempDir } from '../../helpers/temp'
import { addDocuments } from '../../helpers/documents'
import { sqlOf } from '../../helpers/sql'

const tempDir = useTempDir()

function userError(fn: () => unknown): UserError {
  try {
    fn()
  } catch (err) {
    if (err instanceof UserError) return err
    throw err
  }
  throw new Error('expected a UserError')
}

describe('project store', () => {
  it('creates a Frugal project file: WAL, foreign keys, app id, every migration recorded', () => {
    const path = join(tempDir(), 'a.frugal')
    const store = Store.create(path, { appVersion: '9.9.9' })
    expect(sqlOf(store).pragma('journal_mode', { simple: true })).toBe('wal')
    expect(sqlOf(store).pragma('foreign_keys', { simple: true })).toBe(1)
    expect(sqlOf(store).pragma('application_id', { simple: true })).toBe(FRUGAL_APPLICATION_ID)
    expect(sqlOf(store).pragma('page_size', { simple: true })).toBe(16384)
    const versions = sqlOf(store)
      .prepare('SELECT version, name FROM schema_version ORDER BY version')
      .all()
    expect(versions).toHaveLength(latestSchemaVersion)
    expect(store.info()).toMatchObject({
      name: 'a',
      schemaVersion: latestSchemaVersion,
      counts: { datasets: 0 },
    })
    expect(store.meta.get('created_by')).toBe('Frugal 9.9.9')
    store.close()
    // Reopening keeps everything and applies nothing twice.
    const again = Store.open(path)
    expect(again.schemaVersion).toBe(latestSchemaVersion)
    expect(sqlOf(again).prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({
      n: latestSchemaVersion,
    })
    again.close()
  })

  it('begins write transactions as a writer, so another connection committing mid-way cannot fail them', () => {
    const path = join(tempDir(), 'two.frugal')
    const app = openDatabase(path, { create: true })
    const worker = openDatabase(path, { create: false })
    worker.pragma('busy_timeout = 20')
    app.exec('CREATE TABLE t (x INTEGER)')
    const count = () => app.prepare<[], number>('SELECT count(*) FROM t').pluck().get()

    // What every transaction did before: deferred, it starts as a reader, and cannot
    // become a writer once the other connection has committed ("database is locked").
    expect(() =>
      // eslint-disable-next-line no-restricted-syntax -- the failure writeTransaction prevents
      app.transaction(() => {
        count()
        worker.prepare('INSERT INTO t VALUES (1)').run()
        app.prepare('INSERT INTO t VALUES (2)').run()
      })(),
    ).toThrow(/locked/)
    expect(count()).toBe(1)

    // writeTransaction holds the lock from its start: the other writer waits (here it
    // gives up after its short timeout), and this transaction commits.
    writeTransaction(app, () => {
      count()
      expect(() => worker.prepare('INSERT INTO t VALUES (3)').run()).toThrow(/locked/)
      app.prepare('INSERT INTO t VALUES (4)').run()
    })
    expect(app.prepare('SELECT x FROM t ORDER BY x').pluck().all()).toEqual([1, 4])
    worker.close()
    app.close()
  })

  it('never overwrites an existing file on create', () => {
    const path = join(tempDir(), 'exists.frugal')
    writeFileSync(path, 'precious')
    expect(userError(() => Store.create(path)).code).toBe('conflict')
  })

  it('explains what is wrong with a file it cannot open', () => {
    const dir = tempDir()
    expect(userError(() => Store.open(join(dir, 'missing.frugal'))).code).toBe('not_found')

    const text = join(dir, 'notes.frugal')
    writeFileSync(text, 'just some text, definitely longer than a header')
    expect(userError(() => Store.open(text)).message).toMatch(
      /not a Frugal project \(not a SQLite database\)/,
    )

    const foreign = join(dir, 'other.sqlite')
    const db = new Database(foreign)
    db.exec('CREATE TABLE t (x)')
    db.close()
    expect(userError(() => Store.open(foreign)).message).toMatch(
      /SQLite database, but not a Frugal project/,
    )

    expect(userError(() => Store.open(dir)).message).toMatch(/is a folder/)
  })

  it('refuses a project written by a newer Frugal', () => {
    const path = join(tempDir(), 'future.frugal')
    Store.create(path).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_version VALUES (?, ?, ?)').run(
      latestSchemaVersion + 5,
      'future',
      'then',
    )
    db.close()
    const err = userError(() => Store.open(path))
    expect(err.code).toBe('conflict')
    expect(err.message).toMatch(/newer Frugal/)
  })

  it('rolls back a migration that fails half-way, keeping the last good version', () => {
    const db = new Database(join(tempDir(), 'm.sqlite'))
    const broken = [
      ...migrations,
      {
        version: migrations.length + 1,
        name: 'broken',
        sql: 'CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);',
      },
    ]
    expect(() => migrate(db, broken)).toThrow(/no such table: nowhere/)
    expect(schemaVersion(db)).toBe(migrations.length)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined()
    db.close()
  })

  it('deletes a dataset with its documents (foreign keys cascade)', () => {
    const store = Store.create(join(tempDir(), 'fk.frugal'))
    const id = store.datasets.create('web', new Date().toISOString())
    addDocuments(store, id, [
      { source: 'a.txt', text: 'one' },
      { source: 'b.txt', text: 'two', meta: { lang: 'en' } },
    ])
    expect(store.datasets.get(id)?.documents).toBe(2)
    sqlOf(store).prepare('DELETE FROM datasets WHERE id = ?').run(id)
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM documents').get()).toEqual({ n: 0 })
    expect(userError(() => store.datasets.create('  ', 'now')).field).toBe('name')
    store.close()
  })

  it('reads documents in batches without loading them all', () => {
    const store = Store.create(join(tempDir(), 'batches.frugal'))
    const id = store.datasets.create('d', 'now')
    addDocuments(
      store,
      id,
      Array.from({ length: 25 }, (_, i) => ({ source: `s${i}`, text: `doc ${i}` })),
    )
    const sizes = [...store.documents.texts(id, 10)].map((b) => b.length)
    expect(sizes).toEqual([10, 10, 5])
    store.close()
  })

  it('backs up a project online into a complete, openable copy', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'src.frugal'))
    const id = store.datasets.create('d', 'now')
    addDocuments(
      store,
      id,
      Array.from({ length: 500 }, (_, i) => ({ source: `${i}`, text: 'x'.repeat(200) })),
    )
    const fractions: number[] = []
    const result = await backupProject(store, join(dir, 'copy.frugal'), {
      onProgress: (f) => fractions.push(f),
    })
    expect(result.bytes).toBeGreaterThan(100_000)
    expect(fractions.at(-1)).toBe(1)
    expect(existsSync(join(dir, 'copy.frugal.partial'))).toBe(false)
    const copy = Store.open(result.path)
    expect(copy.datasets.get(id)?.documents).toBe(500)
    copy.close()

    await expect(backupProject(store, join(dir, 'copy.frugal'))).rejects.toThrow(/already exists/)
    await expect(backupProject(store, join(dir, 'no-such-dir', 'x.frugal'))).rejects.toThrow(
      /Backup to .* failed/,
    )
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false)
    store.close()
  })

  it('marks jobs left running by a dead process as failed, and leaves live ones alone', () => {
    const store = Store.create(join(tempDir(), 'jobs.frugal'))
    const base = {
      kind: 'dataset.count' as const,
      params: { datasetId: 1 },
      state: 'running' as const,
      progress: null,
      result: null,
      error: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      startedAt: '2026-01-01T00:00:01.000Z',
      finishedAt: null,
    }
    store.jobs.insert({ ...base, id: 'orphan' }, 999_999)
    store.jobs.insert({ ...base, id: 'alive' }, process.pid)
    const failed = store.jobs.failOrphans((pid) => pid === process.pid, '2026-01-01T00:01:00.000Z')
    expect(failed.map((j) => j.id)).toEqual(['orphan'])
    expect(store.jobs.get('orphan')?.state).toBe('failed')
    expect(store.jobs.get('orphan')?.error?.message).toMatch(/stopped while this job was running/)
    expect(store.jobs.get('alive')?.state).toBe('running')
    store.close()
  })

  it('builds dropped score indexes exactly as the migration made them', () => {
    const store = Store.create(join(tempDir(), 'indexes.frugal'))
    const definitions = () =>
      sqlOf(store)
        .prepare<[], { name: string; sql: string }>(
          `SELECT name, sql FROM sqlite_master
           WHERE name IN ('documents_review_uncertain', 'documents_by_score') ORDER BY name`,
        )
        .all()
        .map((r) => ({ name: r.name, sql: r.sql.replace(/\s+/g, ' ') }))
    const migrated = definitions()
    expect(migrated).toHaveLength(2)
    store.scoreIndexes.drop()
    expect(store.scoreIndexes.missing()).toEqual([
      'documents_review_uncertain',
      'documents_by_score',
    ])
    store.scoreIndexes.ensure()
    expect(definitions()).toEqual(migrated)
    store.close()
  })

  it('rebuilds the score indexes once no cleaning run is left writing, a crashed one included', () => {
    const store = Store.create(join(tempDir(), 'orphan-run.frugal'))
    const dataset = store.datasets.create('d', '2026-01-01T00:00:00.000Z')
    const now = '2026-01-01T00:01:00.000Z'
    const crashed = store.cleanRuns.begin(dataset, 'job-1', 999_999, defaultRuleSet(), now)
    const alive = store.cleanRuns.begin(dataset, 'job-2', process.pid, defaultRuleSet(), now)
    store.scoreIndexes.drop()
    const isAlive = (pid: number) => pid === process.pid
    // A live run may still be writing without them: they stay dropped.
    expect(store.cleanRuns.failOrphans(isAlive, now)).toBe(1)
    expect(store.cleanRuns.latest(dataset)?.id).toBe(alive)
    expect(store.scoreIndexes.missing()).toHaveLength(2)
    expect(store.cleanRuns.othersRunning(crashed)).toBe(true)
    // Once it is gone too, the next look builds them.
    expect(store.cleanRuns.failOrphans(() => false, now)).toBe(1)
    expect(store.scoreIndexes.missing()).toEqual([])
    store.close()
  })
})
