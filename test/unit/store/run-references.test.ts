import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { FRUGAL_APPLICATION_ID, openDatabase } from '../../../src/store/database'
import { migrate } from '../../../src/store/migrate'
import { migrations } from '../../../src/store/migrations'
import type { RunData } from '../../../src/store/repos/runs'
import { sqlOf } from '../../helpers/sql'
import { useTempDir } from '../../helpers/temp'
import { placeholderTokenizer } from '../../helpers/tokenizer-row'

const tmp = useTempDir()
const now = '2026-12-06T00:00:00Z'

function run(store: Store, id: string, data: RunData) {
  return store.runs.create(
    {
      id,
      name: id,
      modelConfig: {},
      trainConfig: {},
      data,
      tokenSetId: null,
      parentRunId: null,
      parentCheckpointId: null,
    },
    now,
  )
}

/** A full checkpoint row of `runId` (no tensors: the references are what is tested). */
function checkpoint(store: Store, runId: string, step: number): number {
  const info = sqlOf(store)
    .prepare(
      `INSERT INTO checkpoints (run_id, step, kind, reason, state, raw_bytes, stored_bytes, created_at)
       VALUES (?, ?, 'full', 'interval', '{}', 0, 0, ?)`,
    )
    .run(runId, step, now)
  return Number(info.lastInsertRowid)
}

describe("a run's tokenizer and checkpoints are references the schema keeps", () => {
  it('reads back what a run was made with: tokenizer, init, teacher and reference', () => {
    const store = Store.create(join(tmp(), 'refs.frugal'))
    const tok = placeholderTokenizer(store)
    run(store, 'base', { datasetId: null, tokenizerId: tok, valFraction: 0.1 })
    const c1 = checkpoint(store, 'base', 10)
    const c2 = checkpoint(store, 'base', 20)
    const data: RunData = {
      datasetId: 7,
      tokenizerId: tok,
      valFraction: 0.05,
      init: { runId: 'base', checkpointId: c1 },
      teacher: { runId: 'base', checkpointId: c2 },
      reference: { runId: 'base', checkpointId: c1 },
      chatTemplate: '{{ messages }}',
    }
    run(store, 'student', data)
    expect(store.runs.require('student').data).toEqual(data)
    expect(store.runs.list().find((r) => r.id === 'student')!.data).toEqual(data)
    store.close()
  })

  it('refuses to delete a run whose checkpoint another run uses, naming that run; the schema too', () => {
    const store = Store.create(join(tmp(), 'refs.frugal'))
    const tok = placeholderTokenizer(store)
    run(store, 'teacher', { datasetId: null, tokenizerId: tok, valFraction: 0.1 })
    const c = checkpoint(store, 'teacher', 10)
    run(store, 'student', {
      datasetId: null,
      tokenizerId: tok,
      valFraction: 0.1,
      teacher: { runId: 'teacher', checkpointId: c },
    })
    expect(() => store.runs.delete('teacher')).toThrow(
      'Run "student" learns from a checkpoint of this run; delete it first.',
    )
    // Past the repository, SQLite itself refuses.
    expect(() => sqlOf(store).prepare('DELETE FROM checkpoints WHERE id = ?').run(c)).toThrow(
      /FOREIGN KEY constraint failed/,
    )
    expect(store.checkpoints.get(c)).not.toBeNull()
    store.runs.delete('student')
    store.runs.delete('teacher')
    expect(store.runs.list()).toEqual([])
    store.close()
  })

  it('refuses to delete a tokenizer a run trains with, in the schema', () => {
    const store = Store.create(join(tmp(), 'refs.frugal'))
    const tok = placeholderTokenizer(store)
    run(store, 'r', { datasetId: null, tokenizerId: tok, valFraction: 0.1 })
    expect(store.runs.countUsingTokenizer(tok)).toBe(1)
    expect(() => store.tokenizers.delete(tok)).toThrow(/FOREIGN KEY constraint failed/)
    store.runs.delete('r')
    store.tokenizers.delete(tok)
    expect(store.tokenizers.get(tok)).toBeNull()
    store.close()
  })

  it('keeps checkpoints other runs use when pruning', () => {
    const store = Store.create(join(tmp(), 'refs.frugal'))
    const tok = placeholderTokenizer(store)
    run(store, 'base', { datasetId: null, tokenizerId: tok, valFraction: 0.1 })
    const ids = [10, 20, 30, 40].map((step) => checkpoint(store, 'base', step))
    run(store, 'curriculum', {
      datasetId: 1,
      tokenizerId: tok,
      valFraction: 0.1,
      reference: { runId: 'base', checkpointId: ids[0] },
    })
    store.checkpoints.prune('base', 1)
    expect(store.checkpoints.list('base').map((c) => c.id)).toEqual([ids[0], ids[3]])
    store.close()
  })

  it('moves the references of a project made before them out of the JSON (migration 11)', () => {
    const path = join(tmp(), 'old.frugal')
    const db = openDatabase(path, { create: true })
    db.pragma(`application_id = ${FRUGAL_APPLICATION_ID}`)
    migrate(db, migrations.slice(0, 10))
    db.prepare(
      `INSERT INTO tokenizers (id, name, kind, vocab_size, options, json, created_at)
       VALUES (3, 'bpe', 'bpe', 256, '{}', '{}', ?)`,
    ).run(now)
    const insertRun = db.prepare(
      `INSERT INTO runs (id, name, status, model_config, train_config, data, created_at, updated_at)
       VALUES (?, ?, 'completed', '{}', '{}', ?, ?, ?)`,
    )
    insertRun.run(
      'base',
      'base',
      JSON.stringify({ datasetId: 1, tokenizerId: 3, valFraction: 0.1 }),
      now,
      now,
    )
    db.prepare(
      `INSERT INTO checkpoints (id, run_id, step, kind, reason, state, raw_bytes, stored_bytes, created_at)
       VALUES (5, 'base', 10, 'full', 'final', '{}', 0, 0, ?)`,
    ).run(now)
    const student = {
      datasetId: 2,
      tokenizerId: 3,
      valFraction: 0.2,
      init: { runId: 'base', checkpointId: 5 },
      teacher: { runId: 'base', checkpointId: 5 },
      chatTemplate: 't',
    }
    insertRun.run('student', 'student', JSON.stringify(student), now, now)
    // Pointed at a checkpoint and a tokenizer deleted long ago (a hand-edited file).
    const orphan = {
      datasetId: null,
      tokenizerId: 99,
      valFraction: 0.1,
      init: { runId: 'gone', checkpointId: 77 },
    }
    insertRun.run('orphan', 'orphan', JSON.stringify(orphan), now, now)
    db.close()

    const store = Store.open(path)
    expect(store.runs.require('student').data).toEqual(student)
    expect(store.runs.require('orphan').data).toEqual({
      datasetId: null,
      tokenizerId: 99,
      valFraction: 0.1,
    })
    const stored = sqlOf(store)
      .prepare<[], { data: string; tokenizer_id: number | null }>(
        "SELECT data, tokenizer_id FROM runs WHERE id = 'student'",
      )
      .get()!
    expect(JSON.parse(stored.data)).toEqual({ datasetId: 2, valFraction: 0.2, chatTemplate: 't' })
    expect(stored.tokenizer_id).toBe(3)
    expect(() => store.runs.delete('base')).toThrow(/Run "student" starts from a checkpoint/)
    expect(store.brokenReferences()).toEqual([])
    store.close()
  })
})
