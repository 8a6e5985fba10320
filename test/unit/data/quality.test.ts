import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { defaultRuleSet } from '../../../src/shared/data/rules'
import { runImport } from '../../../src/worker/data/import/importer'
import { runClean } from '../../../src/worker/data/pipeline/clean'
import { runQualityRetrain } from '../../../src/worker/data/pipeline/rescore'
import { extractFeatures } from '../../../src/worker/data/quality/features'
import {
  accuracy,
  deserializeModel,
  predict,
  serializeModel,
  train,
} from '../../../src/worker/data/quality/logistic'
import { takeDocs } from '../../helpers/synthetic-corpus'
import { useTempDir } from '../../helpers/temp'

const tempDir = useTempDir('frugal-quality-')

function deps(store: Store) {
  return {
    store,
    jobId: 'test',
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
    throwIfCancelled: () => undefined,
    threads: 0,
  }
}

describe('logistic regression over hashed features', () => {
  it('learns a pattern and generalizes to held-out texts', () => {
    const docs = takeDocs(500).filter((d) => d.kind === 'prose')
    const label = (t: string): 0 | 1 => (/\b(harbour|river|bridge)\b/.test(t) ? 0 : 1)
    const examples = docs.map((d) => ({
      x: extractFeatures(d.text),
      y: label(d.text),
      weight: 1,
    }))
    const model = train(examples.slice(0, 250))
    expect(accuracy(model, examples.slice(250))!).toBeGreaterThan(0.8)
    const restored = deserializeModel(serializeModel(model))
    expect(predict(restored, examples[300].x)).toBeCloseTo(predict(model, examples[300].x), 6)
  })

  it('is deterministic: the same examples give the same weights', () => {
    const docs = takeDocs(120)
    const examples = docs.map((d, i) => ({
      x: extractFeatures(d.text),
      y: (i % 2) as 0 | 1,
      weight: 1,
    }))
    expect(serializeModel(train(examples)).equals(serializeModel(train(examples)))).toBe(true)
  })
})

describe('the quality model in the pipeline', () => {
  async function cleaned(n = 800) {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const file = join(dir, 'c.jsonl')
    writeFileSync(
      file,
      takeDocs(n)
        .map((d) => JSON.stringify({ text: d.text, kind: d.kind }))
        .join('\n'),
    )
    const { datasetId } = await runImport(
      { dataset: 'c', paths: [file], format: 'auto' },
      deps(store),
    )
    const summary = await runClean(datasetId, defaultRuleSet(), deps(store))
    return { store, datasetId, summary }
  }

  it('before any label, trains on the rules’ decisions, scores every document and reports held-out accuracy', async () => {
    const { store, datasetId, summary } = await cleaned()
    expect(summary.model).toMatchObject({ trainedOn: 'rules', labels: 0 })
    expect(summary.model!.holdout).toBeGreaterThan(50)
    expect(summary.model!.holdoutAccuracy).toBeGreaterThan(0.8)
    const unscored = store.db
      .prepare('SELECT COUNT(*) AS n FROM documents WHERE quality_score IS NULL')
      .get()
    expect(unscored).toEqual({ n: 0 })
    const stats = store.dataStats.stats(datasetId)
    expect(stats.scoreHistogram.reduce((n, b) => n + b.count, 0)).toBe(stats.documents)
    // Documents in the uncertain band go to review, decided by the model, with the score as reason.
    const review = store.documentQueries.list(
      { datasetId, rule: 'quality', status: 'review' },
      'id',
      0,
      5,
    ).items
    for (const item of review) {
      const doc = store.documentQueries.detail(item.id)!
      const reason = doc.reasons.find((r) => r.rule === 'quality')!
      expect(reason).toMatchObject({ action: 'review', check: 'score' })
      expect(doc.qualityScore).toBeGreaterThanOrEqual(0.3)
      expect(doc.qualityScore).toBeLessThan(0.6)
    }
  })

  it('learns from reviewer labels what the rules cannot see, and retrains on request', async () => {
    const { store, datasetId } = await cleaned(1200)
    // The reviewer does not want texts about the harbour; the rules have no opinion on that.
    const kept = store.db
      .prepare<[number], { id: number; text: string }>(
        `SELECT id, coalesce(cleaned_text, text) AS text FROM documents
           WHERE dataset_id = ? AND status = 'kept' ORDER BY id`,
      )
      .all(datasetId)
    const harbour = kept.filter((d) => /\bharbour\b/.test(d.text))
    const other = kept.filter((d) => !/\bharbour\b/.test(d.text))
    const now = new Date().toISOString()
    for (const d of harbour.slice(0, 60)) store.labels.set(d.id, { decision: 'remove' }, now)
    for (const d of other.slice(0, 60)) store.labels.set(d.id, { decision: 'keep' }, now)

    const meanScore = (ids: number[]) => {
      const stmt = store.db.prepare<[number], { s: number }>(
        'SELECT quality_score AS s FROM documents WHERE id = ?',
      )
      return ids.reduce((n, id) => n + stmt.get(id)!.s, 0) / ids.length
    }
    const unseenHarbour = harbour.slice(60).map((d) => d.id)
    const unseenOther = other.slice(60, 300).map((d) => d.id)
    const before = meanScore(unseenHarbour) - meanScore(unseenOther)

    const result = await runQualityRetrain(datasetId, deps(store))
    expect(result.model).toMatchObject({ trainedOn: 'labels+rules', labels: 120 })
    expect(result.model.labelHoldoutAccuracy).not.toBeNull()
    const after = meanScore(unseenHarbour) - meanScore(unseenOther)
    // Unlabelled harbour texts now score clearly lower than the rest.
    expect(after).toBeLessThan(before - 0.1)
    expect(result.changed).toBeGreaterThan(0)
    // Labelled documents keep the reviewer's decision.
    expect(store.documentQueries.detail(harbour[0].id)).toMatchObject({
      status: 'removed',
      decidedBy: 'reviewer',
    })
  })

  it('needs enough examples, and says so', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const file = join(dir, 'few.jsonl')
    writeFileSync(
      file,
      takeDocs(20)
        .map((d) => JSON.stringify({ text: d.text }))
        .join('\n'),
    )
    const { datasetId } = await runImport(
      { dataset: 'few', paths: [file], format: 'auto' },
      deps(store),
    )
    const logs: string[] = []
    const summary = await runClean(datasetId, defaultRuleSet(), {
      ...deps(store),
      log: (_l, m) => logs.push(m),
    })
    expect(summary.model).toBeNull()
    expect(logs.join()).toMatch(/at least 50 examples/)
    await expect(runQualityRetrain(datasetId, deps(store))).rejects.toThrow(/at least 50 examples/)
  })
})
