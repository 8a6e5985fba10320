import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { frugal, trainedProject, versesRunFile } from '../../helpers/trained-project'
import { sqlOf } from '../../helpers/sql'

const dir = mkdtempSync(join(tmpdir(), 'frugal-curriculum-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Every job log line in the project, oldest first. */
const jobLogs = (store: Store): string[] =>
  sqlOf(store).prepare<[], string>('SELECT message FROM job_logs ORDER BY id').pluck().all()

const runFile = (name: string, train: Record<string, unknown>, extra: object = {}) =>
  versesRunFile(dir, name, train, extra)

describe('a run with a curriculum, a progressive context and an adaptive batch', () => {
  const home = join(dir, 'home')
  const { db } = trainedProject(dir, 'scorer', 12)

  it('refuses a reference curriculum without a reference, naming the fix', () => {
    expect(() =>
      frugal(
        ['train', '--config', runFile('no-ref', { curriculum: 'reference' }), '--db', db],
        home,
      ),
    ).toThrow(/choose the curriculum reference \(or a teacher\), or use "unigram"/)
  })

  it('scores the data with the reference checkpoint and records every schedule it followed', () => {
    const config = runFile(
      'with-ref',
      {
        curriculum: 'reference',
        contextWarmupSteps: 4,
        contextStart: 8,
        tokenBudget: 128,
        adaptiveBatch: true,
        maxGradAccumulation: 4,
      },
      { reference: { run: 'scorer' } },
    )
    const out = frugal(['train', '--config', config, '--db', db, '--json'], home)
    const summary = JSON.parse(out.trim().split('\n').at(-1)!) as {
      runId: string
      status: string
    }
    expect(summary.status).toBe('completed')
    const store = Store.open(db)
    try {
      const run = store.runs.require(summary.runId)
      const scorer = store.runs.list().find((r) => r.name === 'scorer')!
      expect((run.data as { reference?: { runId: string } }).reference?.runId).toBe(scorer.id)
      const easy = store.runs.metric(run.id, 'curriculum.easy')
      expect(easy).toHaveLength(8)
      expect(easy[0].value).toBeCloseTo(0.7, 6) // easy-heavy before any loss is known
      const context = store.runs.metric(run.id, 'context_length').map((p) => p.value)
      expect(context[0]).toBe(8)
      expect(context.at(-1)).toBe(32)
      const tokens = store.runs.metric(run.id, 'batch_tokens')
      const sequences = store.runs.metric(run.id, 'batch_sequences')
      tokens.forEach((p, i) => expect(p.value).toBe(sequences[i].value * context[i]))
      // Tokens seen are what the steps used, not steps × a fixed batch.
      expect(run.tokensSeen).toBe(tokens.reduce((a, p) => a + p.value, 0))
      expect(store.runs.metric(run.id, 'noise_scale').length).toBeGreaterThan(0)
      const logs = jobLogs(store)
      expect(
        logs.some((m) =>
          /^Curriculum: \d+ windows of 32 tokens scored by the loss of scorer/.test(m),
        ),
      ).toBe(true)
    } finally {
      store.close()
    }
  })

  it('scores a distilling run by its teacher when it has no reference (teacher-confidence sampling)', () => {
    const config = runFile(
      'by-teacher',
      { steps: 3, curriculum: 'reference', distillAlpha: 0.5 },
      { teacher: { run: 'scorer' } },
    )
    frugal(['train', '--config', config, '--db', db, '--json'], home)
    const store = Store.open(db)
    try {
      const logs = jobLogs(store)
      // Same checkpoint, data and context as the run above: the scores that run computed
      // are read back from the project, one per training window.
      expect(
        logs.some((m) =>
          /scored by the loss of the teacher scorer \(kept in the project from an earlier scoring\)/.test(
            m,
          ),
        ),
      ).toBe(true)
      const rows = sqlOf(store)
        .prepare<[], { windows: number; difficulty: Buffer }>(
          'SELECT windows, difficulty FROM curriculum_scores',
        )
        .all()
      expect(rows).toHaveLength(1)
      const scores = new Float32Array(new Uint8Array(rows[0].difficulty).buffer)
      expect(scores).toHaveLength(rows[0].windows)
      expect(scores.every((x) => Number.isFinite(x) && x > 0)).toBe(true)
    } finally {
      store.close()
    }
  })
})
