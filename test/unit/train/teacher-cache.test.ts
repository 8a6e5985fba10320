import * as tf from '@tensorflow/tfjs-core'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { Teacher } from '../../../src/worker/train/teacher'
import { CachedTeacher } from '../../../src/worker/train/teacher-cache'
import { loadTokenData } from '../../../src/worker/train/token-data'
import { setupTf } from '../../helpers/tfjs'
import { frugal, trainedProject, versesRunFile } from '../../helpers/trained-project'
import { sqlOf } from '../../helpers/sql'

const dir = mkdtempSync(join(tmpdir(), 'frugal-teacher-cache-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
beforeAll(async () => {
  await setupTf()
})

/** A 4-step student of the run "big". */
const runFile = (name: string, train: Record<string, unknown>) =>
  versesRunFile(dir, name, { steps: 4, warmupSteps: 1, ...train }, { teacher: { run: 'big' } })

const logs = (store: Store) =>
  sqlOf(store)
    .prepare<[], { message: string }>('SELECT message FROM job_logs ORDER BY id')
    .all()
    .map((r) => r.message)

describe('cached teacher predictions', () => {
  const home = join(dir, 'home')
  const { db } = trainedProject(dir, 'big', 12)

  it('are built once, reused by the next run, and equal the live teacher’s top-k', async () => {
    frugal(['train', '--config', runFile('first', { distillCache: true }), '--db', db], home)
    frugal(['train', '--config', runFile('second', { distillCache: true }), '--db', db], home)
    const store = Store.open(db)
    try {
      const messages = logs(store)
      expect(
        messages.filter((m) => /^Cached the teacher's top-16 predictions/.test(m)),
      ).toHaveLength(1)
      expect(messages.some((m) => /^Using the cached predictions of the teacher/.test(m))).toBe(
        true,
      )
      const second = store.runs.list().find((r) => r.name === 'second')!
      expect(second.status).toBe('completed')
      expect(store.runs.metric(second.id, 'distill_kl').length).toBe(4)

      // The cache holds, per position, the live teacher's top 16 renormalized.
      const cacheRow = sqlOf(store)
        .prepare<[], { id: number }>(`SELECT id FROM teacher_caches WHERE state = 'ready'`)
        .get()!
      const big = store.runs.list().find((r) => r.name === 'big')!
      const teacherConfig = modelConfigSchema.parse(big.modelConfig)
      const weights = new Map<string, Float32Array>()
      const cp = store.checkpoints.latest(big.id)!
      for (const [name, t] of store.checkpoints.tensors(cp.id))
        if (name.startsWith('param/')) weights.set(name.slice(6), t.values)
      const student = modelConfigSchema.parse(second.modelConfig)
      const data = loadTokenData(store, second.tokenSetId!, student.vocabSize)
      const windows = Int32Array.from([0, 3])
      const T = 32
      const inputs = new Int32Array(2 * T)
      windows.forEach((k, b) => {
        for (let t = 0; t < T; t++) inputs[b * T + t] = data.train[k * T + t]
      })
      const live = Teacher.load({ config: teacherConfig, weights }, student, null)
      const exact = await live.targets({ inputs, targets: inputs, B: 2, T }, 2)
      const cached = new CachedTeacher(store, cacheRow.id, 16, student.vocabSize).targets(
        windows,
        T,
      )
      const V = student.vocabSize
      const a = exact.soft.dataSync() as Float32Array
      const c = cached.soft.dataSync() as Float32Array
      for (let row = 0; row < 2 * T; row++) {
        const p = Array.from(a.subarray(row * V, (row + 1) * V))
        const top = [...p].sort((x, y) => y - x).slice(0, 16)
        const mass = top.reduce((s, x) => s + x, 0)
        const q = c.subarray(row * V, (row + 1) * V)
        expect(Array.from(q).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5)
        for (let v = 0; v < V; v++) if (q[v] > 0) expect(q[v]).toBeCloseTo(p[v] / mass, 2)
      }
      tf.dispose([exact.soft, cached.soft])
      live.dispose()
    } finally {
      store.close()
    }
  })

  it('refuses a cache with hidden-state alignment, naming why', () => {
    expect(() =>
      frugal(
        [
          'train',
          '--config',
          runFile('both', { distillCache: true, distillHiddenWeight: 1 }),
          '--db',
          db,
        ],
        home,
      ),
    ).toThrow(/the cache keeps the teacher's predictions, not its hidden states/)
  })
})
