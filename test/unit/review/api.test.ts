import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import type { JobRecord } from '../../../src/shared/jobs'
import type { Queue } from '../../../src/shared/review'
import { takeDocs } from '../../helpers/synthetic-corpus'
import { useApiBackend } from '../../helpers/api'
import { useTempDir } from '../../helpers/temp'

const tempDir = useTempDir('frugal-review-api-')
const apiBackend = useApiBackend()

async function setup() {
  const dir = tempDir()
  const { call, fails, finished } = apiBackend(dir)
  // A cleaned dataset: the synthetic web corpus, with its uncertain band sent to review.
  const file = join(dir, 'corpus.jsonl')
  writeFileSync(
    file,
    takeDocs(400)
      .map((d) => JSON.stringify({ text: d.text }))
      .join('\n'),
  )
  await finished(await call('data.import', { dataset: 'web', paths: [file] }))
  const [dataset] = await call('datasets.list', {})
  const rules = await call('data.rules', { datasetId: dataset.id })
  // Retrain after every 3 decisions, to see the feedback loop in a short test, and a wide
  // uncertain band, so a small corpus gives a queue.
  await call('data.saveRules', {
    datasetId: dataset.id,
    name: 'eager',
    rules: {
      ...rules.rules,
      quality: { ...rules.rules.quality, retrainEvery: 3, reviewLow: 0.05, reviewHigh: 0.95 },
    },
  })
  const cleaned = await finished(await call('data.clean', { datasetId: dataset.id }))
  // The job's own error, if any, says more than its state.
  expect(cleaned.error).toBeNull()
  expect(cleaned.state).toBe('succeeded')
  return { dir, call, fails, finished, datasetId: dataset.id }
}

describe('review API', () => {
  it('walks the uncertain queue: decide and advance in one call, undo, labels, resume, retrain', async () => {
    const { call, fails, finished, datasetId } = await setup()
    const overview = await call('review.overview', { datasetId })
    expect(overview.cleaned).toBe(true)
    expect(overview.uncertain.total).toBeGreaterThan(4)
    expect(overview.uncertain.remaining).toBe(overview.uncertain.total)
    expect(overview.undo).toBeNull()
    const queue: Queue = { datasetId, source: { kind: 'uncertain' } }

    const first = (await call('review.step', { queue, direction: 'resume' }))!
    expect(first.status).toBe('review')
    // Keep, and get the next undecided document in the same answer.
    const kept = await call('review.decide', {
      documentId: first.id,
      decision: 'keep',
      advance: { queue, direction: 'nextUnreviewed' },
    })
    expect(kept.action?.summary).toBe(`Kept #${first.id}`)
    const second = kept.document!
    expect(second.id).not.toBe(first.id)
    expect((await call('data.document', { id: first.id })).status).toBe('kept')

    // Labels: a key per label, toggled.
    const spam = await call('review.saveLabel', {
      datasetId,
      name: 'spam',
      key: '1',
      color: '#dc2626',
    })
    expect(
      (await fails('review.saveLabel', { datasetId, name: 'ads', key: '1', color: '#000000' }))
        .field,
    ).toBe('key')
    const labelled = await call('review.label', { documentId: second.id, labelId: spam.id })
    expect(labelled.document!.labels).toEqual([spam.id])
    const unlabelled = await call('review.label', { documentId: second.id, labelId: spam.id })
    expect(unlabelled.document!.labels).toEqual([])

    // Undo goes back through the label changes to the decision, and shows each document.
    await call('review.undo', { datasetId })
    expect((await call('review.undo', { datasetId })).document!.labels).toEqual([])
    const undone = await call('review.undo', { datasetId })
    expect(undone.action?.summary).toBe(`Kept #${first.id}`)
    expect(undone.document).toMatchObject({ id: first.id, status: 'review', decision: null })
    expect((await call('review.redo', { datasetId })).document).toMatchObject({
      id: first.id,
      status: 'kept',
    })

    // The queue resumes where the reviewer was.
    expect((await call('review.step', { queue, direction: 'resume' }))!.id).toBe(second.id)

    // Every 3rd decision retrains the model; the overview shows its accuracy before and after.
    let job: JobRecord | null = null
    let at = second.id
    for (let i = 0; i < 2; i++) {
      const r = await call('review.decide', {
        documentId: at,
        decision: i % 2 ? 'keep' : 'remove',
        advance: { queue, direction: 'nextUnreviewed' },
      })
      job ??= r.retrainJob
      at = r.document!.id
    }
    expect(job?.kind).toBe('data.quality')
    expect((await finished(job!)).state).toBe('succeeded')
    const after = await call('review.overview', { datasetId })
    expect(after.model.previous?.trainedOn).toBe('rules')
    expect(after.model.current?.trainedOn).toBe('decisions+rules')
    expect(after.progress).toMatchObject({ reviewed: 3, keep: 2, remove: 1 })
    expect(after.uncertain.remaining).toBeLessThanOrEqual(overview.uncertain.total - 3)
  })

  it('bulk-decides a search within a queue after a preview, undoes it in one step, and exports decisions', async () => {
    const { dir, call, fails, finished, datasetId } = await setup()
    const queue: Queue = { datasetId, source: { kind: 'status', status: 'removed' } }
    const change = { field: 'decision', decision: 'keep' } as const
    const preview = await call('review.bulkPreview', { queue, change })
    expect(preview.changes).toBe(preview.total)
    expect(preview.total).toBeGreaterThan(10)
    const bulk = await call('review.bulk', { queue, change })
    expect(bulk.action).toMatchObject({ documents: preview.total, field: 'decision' })
    // So many decisions retrain the quality model, which re-scores every document: let it
    // finish, or the verdicts below would race it.
    if (bulk.retrainJob) await finished(bulk.retrainJob)
    expect((await call('review.counts', { queue })).total).toBe(0) // all kept now
    await call('review.undo', { datasetId })
    expect((await call('review.counts', { queue })).total).toBe(preview.total)

    const sample = await call('review.createSample', { datasetId, of: 'kept', size: 20, seed: 9 })
    const audit: Queue = { datasetId, source: { kind: 'audit', sampleId: sample.id } }
    const doc = (await call('review.step', { queue: audit, direction: 'first' }))!
    expect(doc.status).toBe('kept')
    const decided = await call('review.decide', { documentId: doc.id, decision: 'remove' })
    if (decided.retrainJob) await finished(decided.retrainJob)
    const automatic = (await call('data.document', { id: doc.id })).autoStatus
    expect(automatic).not.toBeNull()
    await call('review.note', { documentId: doc.id, note: 'a cookie banner, not an article' })
    const out = join(dir, 'decisions.jsonl')
    const job = await finished(await call('review.export', { datasetId, out }))
    expect(job.result).toMatchObject({ documents: 1 })
    const [row] = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(row).toMatchObject({
      id: doc.id,
      decision: 'remove',
      automatic,
      note: 'a cookie banner, not an article',
    })
    expect((await fails('review.export', { datasetId, out })).code).toBe('conflict')
  })

  it('stores ratings and preferences, counts wins either side, exports training pairs', async () => {
    const { dir, call, fails, finished } = await setup()
    const rating = await call('ratings.rate', {
      prompt: 'Once upon a time',
      output: 'there was a harbour.',
      source: { label: 'run-a@12' },
      score: 4,
      reasons: ['fluent'],
    })
    expect(rating).toMatchObject({ score: 4, reasons: ['fluent'] })
    expect((await fails('ratings.rate', { prompt: 'x', output: 'y', score: 6 })).field).toBe(
      'score',
    )
    const a = { label: 'small' }
    const b = { label: 'large' }
    await call('ratings.prefer', {
      prompt: 'p1',
      outputA: 'A1',
      outputB: 'B1',
      sourceA: a,
      sourceB: b,
      choice: 'b',
    })
    await call('ratings.prefer', {
      prompt: 'p2',
      outputA: 'B2',
      outputB: 'A2',
      sourceA: b,
      sourceB: a,
      choice: 'a',
    })
    await call('ratings.prefer', {
      prompt: 'p3',
      outputA: 'A3',
      outputB: 'B3',
      sourceA: a,
      sourceB: b,
      choice: 'tie',
    })
    expect(await call('ratings.winRate', { a: 'large', b: 'small' })).toEqual({
      a: 2,
      b: 0,
      ties: 1,
    })
    const out = join(dir, 'pairs.jsonl')
    expect((await finished(await call('ratings.export', { kind: 'pairs', out }))).result).toEqual({
      path: out,
      records: 2,
    })
    expect(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { prompt: 'p1', chosen: 'B1', rejected: 'A1' },
      { prompt: 'p2', chosen: 'B2', rejected: 'A2' },
    ])
    const listed = await call('ratings.list', {})
    expect(listed.ratings.total).toBe(1)
    expect(listed.preferences.items.map((p) => p.prompt)).toEqual(['p3', 'p2', 'p1'])
  })
})
