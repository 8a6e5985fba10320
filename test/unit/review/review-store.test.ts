import Database from 'better-sqlite3'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { migrate } from '../../../src/store/migrate'
import { migrations } from '../../../src/store/migrations'
import { FRUGAL_APPLICATION_ID } from '../../../src/store/database'
import type { Queue } from '../../../src/shared/review'
import { useTempDir } from '../../helpers/temp'
import { addDocuments } from '../../helpers/documents'
import { sqlOf } from '../../helpers/sql'

const tempDir = useTempDir('frugal-review-')
const now = () => new Date().toISOString()

/**
 * A dataset as cleaning leaves it: 30 documents, every third sent to review with a score
 * at a known distance from 0.5, a few removed by a rule or as duplicates, the rest kept.
 */
function cleanedDataset(store: Store): { datasetId: number; ids: number[] } {
  const datasetId = store.datasets.create('web', now())
  addDocuments(
    store,
    datasetId,
    Array.from({ length: 30 }, (_, i) => ({
      source: `page-${i}.html`,
      text: `Document ${i} is about ${i % 2 ? 'harbours and tides' : 'bread and ovens'}.`,
    })),
  )
  const ids = sqlOf(store)
    .prepare<[number], { id: number }>('SELECT id FROM documents WHERE dataset_id = ? ORDER BY id')
    .all(datasetId)
    .map((r) => r.id)
  const set = sqlOf(store).prepare(
    `UPDATE documents SET auto_status = ?, status = ?, decided_by = ?, decision_rule = ?,
       quality_score = ?, dup_cluster = ? WHERE id = ?`,
  )
  ids.forEach((id, i) => {
    if (i % 3 === 0) {
      // Review: scores 0.5 ± i/100, so document 27 is the least certain after 0.
      set.run('review', 'review', 'model', 'quality', 0.5 + (i % 2 ? 1 : -1) * (i / 100), null, id)
    } else if (i % 5 === 1) set.run('removed', 'removed', 'rules', 'gopher_quality', 0.2, null, id)
    else if (i === 4 || i === 8) set.run('removed', 'removed', 'dedup', 'dedup_near', 0.9, 1, id)
    else set.run('kept', 'kept', 'rules', null, 0.8, i === 2 ? 1 : null, id)
  })
  return { datasetId, ids }
}

const statusOf = (store: Store, id: number) =>
  sqlOf(store)
    .prepare<[number], { status: string; decided_by: string | null; decision: string | null }>(
      `SELECT d.status, d.decided_by, l.decision FROM documents d
       LEFT JOIN document_decisions l ON l.document_id = d.id WHERE d.id = ?`,
    )
    .get(id)!

/** Walk a queue from its start with `direction`, collecting the documents shown. */
function walk(store: Store, q: Queue, direction: 'next' | 'nextUnreviewed', max = 100): number[] {
  const seen: number[] = []
  let at = store.review.step(q, null, 'first')
  while (at !== null && seen.length < max) {
    seen.push(at)
    at = store.review.step(q, at, direction)
    if (at !== null && seen.includes(at)) break
  }
  return seen
}

describe('review store', () => {
  it('searches within every kind of queue: each match of the search in that queue, nothing else', () => {
    const store = Store.create(join(tempDir(), 's.frugal'))
    const { datasetId, ids } = cleanedDataset(store)
    // Odd documents are about harbours. A label on three of them (and one even), a sample
    // of what was kept.
    const label = store.review.saveLabel(
      datasetId,
      { name: 'boats', key: '1', color: '#000' },
      now(),
    )
    for (const i of [1, 2, 7, 13]) store.review.setLabel(ids[i], label.id, true, now())
    const sample = store.review.createSample(datasetId, 'kept', 20, 1, now())
    // Cluster 1 holds documents 2, 4 and 8; and 5, a harbour one.
    sqlOf(store).prepare('UPDATE documents SET dup_cluster = 1 WHERE id = ?').run(ids[5])
    const sources: Queue['source'][] = [
      { kind: 'uncertain' },
      { kind: 'audit', sampleId: sample.id },
      { kind: 'rule', rule: 'gopher_quality' },
      { kind: 'label', labelId: label.id },
      { kind: 'score', min: 0, max: 1.01 },
      { kind: 'cluster', cluster: 1 },
      { kind: 'status', status: 'kept' },
      { kind: 'all' },
    ]
    const harbours = new Set(ids.filter((_, i) => i % 2 === 1))
    for (const source of sources) {
      const all = store.review.members({ datasetId, source }, 0, 100).map((m) => m.id)
      const found = store.review
        .members({ datasetId, source, search: 'harbours' }, 0, 100)
        .map((m) => m.id)
      const kind = source.kind
      expect(found.length, kind).toBeGreaterThan(0)
      expect(found.sort(), kind).toEqual(all.filter((id) => harbours.has(id)).sort())
      expect(store.review.counts({ datasetId, source, search: 'harbours' }).total, kind).toBe(
        found.length,
      )
      // The step through a searched queue stays inside it.
      expect(
        harbours.has(store.review.step({ datasetId, source, search: 'harbours' }, null, 'first')!),
        kind,
      ).toBe(true)
    }
    store.close()
  })

  it('orders the uncertain queue by distance from the decision boundary, and walks it both ways', () => {
    const store = Store.create(join(tempDir(), 'r.frugal'))
    const { datasetId, ids } = cleanedDataset(store)
    const q: Queue = { datasetId, source: { kind: 'uncertain' } }
    const order = walk(store, q, 'next')
    const expected = ids
      .map((id, i) => ({ id, i }))
      .filter(({ i }) => i % 3 === 0)
      .sort((a, b) => a.i - b.i)
      .map((x) => x.id)
    expect(order).toEqual(expected) // |score - 0.5| = i/100 grows with i
    expect(store.review.counts(q)).toEqual({ total: 10, remaining: 10 })
    // Backwards from the last gives the same documents in reverse.
    const back: number[] = [order.at(-1)!]
    for (
      let at = store.review.step(q, back[0], 'prev');
      at !== null;
      at = store.review.step(q, at, 'prev')
    )
      back.push(at)
    expect(back).toEqual([...order].reverse())
    store.close()
  })

  it('records decisions as actions: the status follows, undo and redo restore it, a new action clears redo', () => {
    const store = Store.create(join(tempDir(), 'r.frugal'))
    const { datasetId, ids } = cleanedDataset(store)
    const doc = ids[3] // sent to review by the model
    const kept = store.review.decide(doc, 'keep', now())!
    expect(kept.summary).toBe(`Kept #${doc}`)
    expect(statusOf(store, doc)).toEqual({
      status: 'kept',
      decided_by: 'reviewer',
      decision: 'keep',
    })
    store.review.decide(doc, 'remove', now())
    expect(statusOf(store, doc).status).toBe('removed')
    // The same decision again changes nothing and records nothing.
    expect(store.review.decide(doc, 'remove', now())).toBeNull()

    expect(store.review.undo(datasetId, now())!.summary).toBe(`Removed #${doc}`)
    expect(statusOf(store, doc)).toMatchObject({ status: 'kept', decision: 'keep' })
    expect(store.review.undo(datasetId, now())!.summary).toBe(`Kept #${doc}`)
    // Back to the pipeline's own verdict and decider.
    expect(statusOf(store, doc)).toEqual({ status: 'review', decided_by: 'model', decision: null })
    expect(store.review.undo(datasetId, now())).toBeNull()

    expect(store.review.redo(datasetId, now())!.summary).toBe(`Kept #${doc}`)
    expect(statusOf(store, doc).status).toBe('kept')
    expect(store.review.history(datasetId).redo!.summary).toBe(`Removed #${doc}`)
    // A new action discards what could have been redone.
    store.review.decide(ids[6], 'remove', now())
    expect(store.review.history(datasetId).redo).toBeNull()
    store.close()
  })

  it('survives a reopen: decisions, the undo history and the position in a queue are in the file', () => {
    const path = join(tempDir(), 'r.frugal')
    let store = Store.create(path)
    const { datasetId, ids } = cleanedDataset(store)
    const q: Queue = { datasetId, source: { kind: 'uncertain' } }
    store.review.decide(ids[0], 'keep', now())
    store.review.savePosition(q, ids[9], now())
    store.close()
    store = Store.open(path)
    expect(store.review.step(q, null, 'resume')).toBe(ids[9])
    expect(store.review.history(datasetId).undo!.summary).toBe(`Kept #${ids[0]}`)
    store.review.undo(datasetId, now())
    expect(statusOf(store, ids[0]).status).toBe('review')
    store.close()
  })

  it('advances to the next undecided document, wrapping round to skipped ones', () => {
    const store = Store.create(join(tempDir(), 'r.frugal'))
    const { datasetId } = cleanedDataset(store)
    const q: Queue = { datasetId, source: { kind: 'uncertain' } }
    const order = walk(store, q, 'next')
    // Decide the 2nd and 3rd; from the 1st, the next undecided is the 4th.
    store.review.decide(order[1], 'keep', now())
    store.review.decide(order[2], 'remove', now())
    expect(store.review.step(q, order[0], 'nextUnreviewed')).toBe(order[3])
    expect(store.review.counts(q)).toEqual({ total: 10, remaining: 8 })
    // From the last, it wraps to the first undecided (a skipped one), never to itself.
    expect(store.review.step(q, order[9], 'nextUnreviewed')).toBe(order[0])
    // Decided documents stay in the queue, so "previous" still shows them.
    expect(store.review.step(q, order[3], 'prev')).toBe(order[2])
    store.close()
  })

  it('labels: unique names and keys, toggled on documents, a queue of their own', () => {
    const store = Store.create(join(tempDir(), 'r.frugal'))
    const { datasetId, ids } = cleanedDataset(store)
    const spam = store.review.saveLabel(
      datasetId,
      { name: 'spam', key: '1', color: '#dc2626' },
      now(),
    )
    const recipe = store.review.saveLabel(
      datasetId,
      { name: 'recipe', key: '2', color: '#16a34a' },
      now(),
    )
    expect(() =>
      store.review.saveLabel(datasetId, { name: 'spam', key: '3', color: '#000' }, now()),
    ).toThrow(/already a label named "spam"/)
    expect(() =>
      store.review.saveLabel(datasetId, { name: 'ads', key: '1', color: '#000' }, now()),
    ).toThrow(/Key 1 already toggles the label "spam"/)
    store.review.setLabel(ids[1], spam.id, true, now())
    store.review.setLabel(ids[5], spam.id, true, now())
    store.review.setLabel(ids[5], recipe.id, true, now())
    expect(store.documentQueries.detail(ids[5])!.labels).toEqual([spam.id, recipe.id])
    const q: Queue = { datasetId, source: { kind: 'label', labelId: spam.id } }
    expect(walk(store, q, 'next')).toEqual([ids[1], ids[5]])
    store.review.undo(datasetId, now())
    expect(store.documentQueries.detail(ids[5])!.labels).toEqual([spam.id])
    expect(store.review.labels(datasetId).map((l) => [l.name, l.documents])).toEqual([
      ['spam', 2],
      ['recipe', 0],
    ])
    store.close()
  })

  it('bulk changes a whole queue in one action and undoes it in one step', () => {
    const store = Store.create(join(tempDir(), 'r.frugal'))
    const { datasetId } = cleanedDataset(store)
    const q: Queue = { datasetId, source: { kind: 'rule', rule: 'gopher_quality' } }
    const members = walk(store, q, 'next')
    expect(members.length).toBeGreaterThan(2)
    store.review.decide(members[0], 'keep', now())
    const change = { field: 'decision', decision: 'keep' } as const
    // One is already kept by the reviewer: only the others change.
    expect(store.review.bulkPreview(q, change)).toBe(members.length - 1)
    const action = store.review.bulk(q, change, now())!
    expect(action.summary).toBe(`Kept ${members.length - 1} documents`)
    expect(members.map((id) => statusOf(store, id).status)).toEqual(members.map(() => 'kept'))
    store.review.undo(datasetId, now())
    expect(members.map((id) => statusOf(store, id).status)).toEqual([
      'kept',
      ...members.slice(1).map(() => 'removed'),
    ])
    // Labels in bulk, on a search within the queue.
    const label = store.review.saveLabel(
      datasetId,
      { name: 'bread', key: null, color: '#f59e0b' },
      now(),
    )
    const bread: Queue = { datasetId, source: { kind: 'all' }, search: 'ovens' }
    expect(
      store.review.bulk(bread, { field: 'label', labelId: label.id, on: true }, now())!.documents,
    ).toBe(15)
    store.close()
  })

  it('draws audit samples at random, reproducibly, from what the pipeline kept or removed', () => {
    const store = Store.create(join(tempDir(), 'r.frugal'))
    const { datasetId } = cleanedDataset(store)
    const a = store.review.createSample(datasetId, 'kept', 5, 42, now())
    const b = store.review.createSample(datasetId, 'kept', 5, 42, now())
    const docs = (sampleId: number) =>
      walk(store, { datasetId, source: { kind: 'audit', sampleId } }, 'next')
    expect(docs(a.id)).toHaveLength(5)
    expect(docs(a.id)).toEqual(docs(b.id))
    for (const id of docs(a.id)) expect(statusOf(store, id).status).toBe('kept')
    const all = store.review.createSample(datasetId, 'removed', 1000, 7, now())
    expect(all.size).toBe(6) // every removed document, no more
    expect(() =>
      store.review.createSample(store.datasets.create('empty', now()), 'kept', 5, 1, now()),
    ).toThrow(/nothing to sample/)
    store.close()
  })

  it('measures progress: decisions, agreement with the pipeline, the rate per hour', () => {
    const store = Store.create(join(tempDir(), 'r.frugal'))
    const { datasetId, ids } = cleanedDataset(store)
    const start = Date.parse('2026-11-29T10:00:00Z')
    // ids[2] was kept by the pipeline, ids[1] removed: one agreement, one disagreement.
    store.review.decide(ids[2], 'keep', new Date(start).toISOString())
    store.review.decide(ids[1], 'keep', new Date(start + 5 * 60_000).toISOString())
    store.review.decide(ids[0], 'remove', new Date(start + 10 * 60_000).toISOString())
    const p = store.review.progress(datasetId, new Date(start + 15 * 60_000))
    expect(p).toMatchObject({
      reviewed: 3,
      keep: 2,
      remove: 1,
      agreement: { compared: 2, agreed: 1 },
    })
    expect(p.ratePerHour).toBe(12) // 3 decisions in a quarter of an hour
    store.close()
  })

  it('exports what was reviewed with its decision, labels, note and time', () => {
    const store = Store.create(join(tempDir(), 'r.frugal'))
    const { datasetId, ids } = cleanedDataset(store)
    const label = store.review.saveLabel(
      datasetId,
      { name: 'spam', key: '1', color: '#dc2626' },
      now(),
    )
    store.review.decide(ids[0], 'remove', now())
    store.review.setLabel(ids[0], label.id, true, now())
    store.review.setNote(ids[3], 'borderline: a recipe with ads', now())
    const rows = [...store.review.exportRows(datasetId)]
    expect(rows.map((r) => [r.id, r.decision, r.labels, r.note])).toEqual([
      [ids[0], 'remove', ['spam'], ''],
      [ids[3], null, [], 'borderline: a recipe with ads'],
    ])
    expect(rows[0].automatic).toBe('review')
    expect(rows[0].reviewed_at).toMatch(/^\d{4}-/)
    store.close()
  })

  it('migrates the free-form tags of a version-3 project into labels', () => {
    const path = join(tempDir(), 'old.frugal')
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = ON')
    db.pragma(`application_id = ${FRUGAL_APPLICATION_ID}`)
    migrate(db, migrations.slice(0, 3))
    db.prepare(`INSERT INTO datasets (id, name, created_at) VALUES (1, 'old', '2026-01-01')`).run()
    db.prepare(
      `INSERT INTO documents (id, dataset_id, source, text) VALUES (7, 1, 'a', 'x'), (8, 1, 'b', 'y')`,
    ).run()
    db.prepare(
      `INSERT INTO document_labels (document_id, dataset_id, decision, tags, note, updated_at)
       VALUES (7, 1, 'keep', '["ads","nsfw"]', '', '2026-01-02'), (8, 1, NULL, '["ads"]', 'hm', '2026-01-03')`,
    ).run()
    db.close()
    const store = Store.open(path)
    const labels = store.review.labels(1)
    expect(labels.map((l) => [l.name, l.documents])).toEqual([
      ['ads', 2],
      ['nsfw', 1],
    ])
    expect(store.documentQueries.detail(7)!.labels).toHaveLength(2)
    expect(store.documentQueries.detail(8)!.note).toBe('hm')
    store.close()
  })
  it('opens a version-11 project with its decisions and quality models, now named as decisions', () => {
    const path = join(tempDir(), 'v11.frugal')
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = ON')
    db.pragma(`application_id = ${FRUGAL_APPLICATION_ID}`)
    migrate(db, migrations.slice(0, 11))
    db.prepare(`INSERT INTO datasets (id, name, created_at) VALUES (1, 'old', '2026-01-01')`).run()
    db.prepare(
      `INSERT INTO documents (id, dataset_id, source, text, status, decided_by)
       VALUES (7, 1, 'a', 'x', 'kept', 'reviewer'), (8, 1, 'b', 'y', 'pending', NULL)`,
    ).run()
    db.prepare(
      `INSERT INTO document_labels (document_id, dataset_id, decision, note, updated_at)
       VALUES (7, 1, 'keep', 'fine', '2026-01-02'), (8, 1, NULL, 'hm', '2026-01-03')`,
    ).run()
    const model = db.prepare(
      `INSERT INTO quality_models (dataset_id, created_at, trained_on, examples, labels, holdout,
         holdout_accuracy, label_holdout_accuracy, config, weights)
       VALUES (1, ?, ?, 40, ?, 8, 0.9, ?, '{}', x'00')`,
    )
    model.run('2026-01-04', 'rules', 0, null)
    model.run('2026-01-05', 'labels+rules', 12, 0.75)
    db.close()
    const store = Store.open(path)
    expect(store.documentQueries.detail(7)).toMatchObject({ decision: 'keep', note: 'fine' })
    expect(store.documentQueries.detail(8)).toMatchObject({ decision: null, note: 'hm' })
    expect(store.decisions.counts(1)).toEqual({ keep: 1, remove: 0 })
    expect(store.qualityModels.latest(1)).toMatchObject({
      trainedOn: 'decisions+rules',
      decisions: 12,
      decisionHoldoutAccuracy: 0.75,
    })
    expect(store.dataStats.stats(1).decisionsSinceModel).toBe(0)
    store.close()
  })
})
