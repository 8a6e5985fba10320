import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { Store } from '../../../src/store'
import { defaultRuleSet, type RuleSet } from '../../../src/shared/data/rules'
import { runImport } from '../../../src/worker/data/import/importer'
import { runClean } from '../../../src/worker/data/pipeline/clean'
import { InlineProcessor } from '../../../src/worker/data/pipeline/inline'
import { exportJsonl } from '../../../src/worker/data/export'
import { extractFeatures } from '../../../src/worker/data/quality/features'
import { deserializeModel, predict } from '../../../src/worker/data/quality/logistic'
import { RULE_SAMPLE } from '../../../src/worker/data/quality/training'
import { round } from '../../../src/worker/data/text/view'
import { makeImportFolder } from '../../helpers/data-fixtures'
import { takeDocs } from '../../helpers/synthetic-corpus'
import { quietJobDeps } from '../../helpers/job-deps'
import { useTempDir } from '../../helpers/temp'
import { sqlOf } from '../../helpers/sql'

const tempDir = useTempDir('frugal-clean-')

const deps = quietJobDeps

async function importFiles(store: Store, paths: string[], dataset = 'corpus') {
  return runImport({ dataset, paths, format: 'auto' }, deps(store))
}

/** Everything the clean job writes about each document, for comparing runs. */
const snapshot = (store: Store) =>
  sqlOf(store)
    .prepare(
      `SELECT id, cleaned_text, status, auto_status, decided_by, decision_rule, modified, reasons, redactions,
         language, language_score, quality_score, char_count, content_hash,
         dup_cluster, dup_similarity FROM documents ORDER BY id`,
    )
    .all()

function syntheticFile(dir: string, n: number): string {
  const file = join(dir, 'synthetic.jsonl')
  writeFileSync(
    file,
    takeDocs(n)
      .map((d) => JSON.stringify({ text: d.text, kind: d.kind, id: d.id, copyOf: d.copyOf }))
      .join('\n'),
  )
  return file
}

describe('cleaning', () => {
  it('explains every removed or modified document with the rule and its measurement', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const { datasetId } = await importFiles(store, [makeImportFolder(dir).root])
    const summary = await runClean(datasetId, defaultRuleSet(), deps(store))
    expect(summary.kept + summary.modified + summary.removed + summary.review).toBe(
      summary.documents,
    )
    expect(summary.removed).toBeGreaterThan(5)

    const { items } = store.documentQueries.list({ datasetId }, 'id', 0, 200)
    for (const item of items) {
      const doc = store.documentQueries.detail(item.id)!
      if (doc.status === 'removed' || doc.status === 'review') {
        const decisive = doc.reasons.find((r) => r.rule === doc.decisionRule && r.action !== 'keep')
        expect(decisive, `#${doc.id} ${doc.source}`).toBeDefined()
        expect(decisive!.check).toBeTruthy()
        expect(decisive!.value).not.toBeUndefined()
        expect(decisive!.note).toBeTruthy()
      }
      if (doc.modified) expect(doc.reasons.some((r) => r.action === 'modify')).toBe(true)
    }
    const bySource = (suffix: string) => items.find((i) => i.source.endsWith(suffix))!
    expect(bySource('articles.jsonl:11')).toMatchObject({
      status: 'removed',
      decisionRule: 'language',
      language: 'fr',
    })
    expect(bySource('articles.jsonl:5')).toMatchObject({
      status: 'removed',
      decisionRule: 'gopher_repetition',
    })
    expect(bySource('articles.jsonl:9')).toMatchObject({ status: 'removed', decisionRule: 'c4' })
    expect(bySource('harbour-gazette-flood-defences.html')).toMatchObject({
      status: 'kept',
      modified: true,
    })
  })

  it('redacts PII in the cleaned text, stores the spans, and leaves ISBN and DOI alone', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const { datasetId } = await importFiles(store, [
      join(makeImportFolder(dir).root, 'corpus', 'articles.jsonl'),
    ])
    await runClean(datasetId, defaultRuleSet(), deps(store))
    const { items } = store.documentQueries.list({ datasetId, search: 'repair café' }, 'id', 0, 10)
    expect(items).toHaveLength(1)
    const doc = store.documentQueries.detail(items[0].id)!
    expect(doc.status).toBe('kept')
    expect(doc.text).toContain('sam.patel@repaircafe-example.org')
    expect(doc.cleanedText).not.toMatch(/sam\.patel|7946 0321|4111 1111|81\.2\.69\.142|2a00:1450/)
    expect(doc.redactions.map((r) => [r.type, r.value])).toEqual([
      ['EMAIL', 'sam.patel@repaircafe-example.org'],
      ['PHONE', '+44 20 7946 0321'],
      ['CREDIT_CARD', '4111 1111 1111 1111'],
      ['IP', '81.2.69.142'],
      ['IP', '2a00:1450:4009:81f::200e'],
    ])
    for (const r of doc.redactions)
      expect(doc.cleanedText!.slice(r.start, r.end)).toBe(`<${r.type}>`)
    expect(doc.cleanedText).toContain('ISBN 978-0-306-40615-7')
    expect(doc.cleanedText).toContain('doi 10.1038/nphys1170')
    // The statistics count them by type; search finds the original text and the placeholder.
    expect(store.dataStats.stats(datasetId).redactions).toEqual({
      EMAIL: 1,
      PHONE: 1,
      CREDIT_CARD: 1,
      IP: 2,
    })
    expect(store.documentQueries.list({ datasetId, search: 'sam.patel' }, 'id', 0, 10).total).toBe(
      1,
    )
  })

  it('finds near duplicates, keeps one per cluster and does not merge distinct texts', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const { datasetId } = await importFiles(store, [syntheticFile(dir, 600)])
    const summary = await runClean(datasetId, defaultRuleSet(), deps(store))
    expect(summary.duplicateClusters).toBeGreaterThan(10)
    const rows = sqlOf(store)
      .prepare<
        [],
        {
          id: number
          meta: string
          status: string
          decision_rule: string | null
          dup_cluster: number | null
        }
      >('SELECT id, meta, status, decision_rule, dup_cluster FROM documents ORDER BY id')
      .all()
      .map((r) => ({
        ...r,
        meta: JSON.parse(r.meta) as { kind: string; id: string; copyOf?: string },
      }))
    const byOrigin = new Map(rows.map((r) => [r.meta.id, r]))
    let copiesOfKept = 0
    let found = 0
    for (const r of rows) {
      if (r.meta.kind !== 'exact-duplicate' && r.meta.kind !== 'near-duplicate') continue
      const original = byOrigin.get(r.meta.copyOf!)!
      if (original.status !== 'kept' || (original.dup_cluster === null && original.decision_rule))
        continue
      copiesOfKept++
      if (r.decision_rule === 'dedup_exact' || r.decision_rule === 'dedup_near') {
        found++
        expect(r.dup_cluster).toBe(original.dup_cluster)
      }
    }
    // Exact copies are always found; near copies (1.5% of words changed) with LSH's odds.
    expect(found / copiesOfKept).toBeGreaterThan(0.9)
    // Every cluster's members descend from one original: distinct texts were not merged.
    const clusters = new Map<number, Set<string>>()
    for (const r of rows.filter((r) => r.dup_cluster !== null)) {
      const origin = r.meta.copyOf ?? r.meta.id
      clusters.set(r.dup_cluster!, (clusters.get(r.dup_cluster!) ?? new Set()).add(origin))
    }
    for (const origins of clusters.values()) expect(origins.size).toBe(1)
    // The kept document of a cluster can list its members.
    const [clusterId] = [...clusters.keys()]
    const kept = store.documentQueries.detail(clusterId)!
    expect(kept.cluster.length).toBeGreaterThan(0)
  })

  it('is idempotent: a re-run with the same rules changes nothing, and reviewer decisions survive', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const { datasetId } = await importFiles(store, [
      syntheticFile(dir, 300),
      makeImportFolder(dir).root,
    ])
    const rules = defaultRuleSet()
    await runClean(datasetId, rules, deps(store))
    const [removed] = store.documentQueries.list({ datasetId, status: 'removed' }, 'id', 0, 1).items
    store.decisions.set(
      removed.id,
      { decision: 'keep', note: 'fine by me' },
      new Date().toISOString(),
    )
    const first = snapshot(store)
    await runClean(datasetId, rules, deps(store))
    expect(snapshot(store)).toEqual(first)
    expect(store.documentQueries.detail(removed.id)).toMatchObject({
      status: 'kept',
      decidedBy: 'reviewer',
      autoStatus: 'removed',
      note: 'fine by me',
    })
  })

  it('gives the same result in worker threads as on one thread, every document scored by the model', async () => {
    const dir = tempDir()
    // More than the training sample (RULE_SAMPLE), so the main pass has documents of its
    // own, some of them back from the threads before the model is fitted.
    const file = syntheticFile(dir, RULE_SAMPLE + 600)
    const results = []
    for (const threads of [0, 2]) {
      const store = Store.create(join(dir, `t${threads}.frugal`))
      const { datasetId } = await importFiles(store, [file])
      const summary = await runClean(datasetId, defaultRuleSet(), deps(store, threads))
      results.push({ rows: snapshot(store), byRule: summary.byRule })
      const model = deserializeModel(store.qualityModels.weights(summary.model!.id)!)
      const rows = sqlOf(store)
        .prepare<[], { text: string; cleaned_text: string | null; quality_score: number | null }>(
          'SELECT text, cleaned_text, quality_score FROM documents',
        )
        .all()
      expect(rows).toHaveLength(RULE_SAMPLE + 600)
      for (const r of rows)
        expect(r.quality_score).toBe(
          round(predict(model, extractFeatures(r.cleaned_text ?? r.text))),
        )
      store.close()
    }
    expect(results[1]).toEqual(results[0])
  })

  it('fails the run with the error of a batch that fails in the main pass', async () => {
    const dir = tempDir()
    const file = join(dir, 'short.jsonl')
    writeFileSync(
      file,
      takeDocs(RULE_SAMPLE + 1500)
        .map((d) => JSON.stringify({ text: d.text.slice(0, 300) }))
        .join('\n'),
    )
    const store = Store.create(join(dir, 'p.frugal'))
    const { datasetId } = await importFiles(store, [file])
    // Spied on the prototype, the original is called with the instance as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const original = InlineProcessor.prototype.process
    let failedBatches = 0
    // After the fit, main-pass batches no longer ask for features: fail the first of them.
    const spy = vi.spyOn(InlineProcessor.prototype, 'process').mockImplementation(function (
      this: InlineProcessor,
      docs,
      features,
    ) {
      if (!features && failedBatches++ === 0)
        return Promise.reject(new Error('Cleaning thread failed: out of memory'))
      return original.call(this, docs, features)
    })
    try {
      await expect(runClean(datasetId, defaultRuleSet(), deps(store))).rejects.toThrow(
        'out of memory',
      )
    } finally {
      spy.mockRestore()
    }
    expect(failedBatches).toBeGreaterThan(0)
    expect(store.cleanRuns.latest(datasetId)?.state).toBe('failed')
    store.close()
  })

  it('writes a large run without the score indexes and has them back after it, cancelled or not', async () => {
    const dir = tempDir()
    // 10,000 short documents: enough for the run to set the indexes aside, quick on one thread.
    const file = join(dir, 'short.jsonl')
    writeFileSync(
      file,
      takeDocs(10_000)
        .map((d) => JSON.stringify({ text: d.text.slice(0, 300) }))
        .join('\n'),
    )
    const store = Store.create(join(dir, 'p.frugal'))
    const { datasetId } = await importFiles(store, [file])
    const duringPass: string[][] = []
    await runClean(datasetId, defaultRuleSet(), {
      ...deps(store),
      progress: (p) => {
        if (p.message === 'Cleaning') duringPass.push(store.scoreIndexes.missing())
      },
    })
    expect(duringPass.length).toBeGreaterThan(0)
    expect(duringPass[0]).toEqual(['documents_review_uncertain', 'documents_by_score'])
    expect(store.scoreIndexes.missing()).toEqual([])
    // The review queue's order is an index seek again.
    const plan = sqlOf(store)
      .prepare(
        `EXPLAIN QUERY PLAN SELECT id FROM documents WHERE dataset_id = ? AND auto_status = 'review'
         ORDER BY coalesce(abs(quality_score - 0.5), 1), id LIMIT 1`,
      )
      .all(datasetId)
    expect(JSON.stringify(plan)).toContain('documents_review_uncertain')

    let checks = 0
    const cancelled = runClean(datasetId, defaultRuleSet(), {
      ...deps(store),
      throwIfCancelled: () => {
        if (store.scoreIndexes.missing().length > 0 && ++checks > 3) throw new Error('Cancelled')
      },
    })
    await expect(cancelled).rejects.toThrow('Cancelled')
    expect(store.cleanRuns.latest(datasetId)?.state).toBe('failed')
    expect(store.scoreIndexes.missing()).toEqual([])
    store.close()
  })

  it('follows the rule set: disabled rules, changed thresholds, reordering', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const { datasetId } = await importFiles(store, [join(makeImportFolder(dir).root, 'corpus')])
    const loose: RuleSet = defaultRuleSet()
    loose.rules = loose.rules.map((r) =>
      r.id === 'c4'
        ? { ...r, params: { ...r.params, minSentences: 1 } }
        : r.id === 'language'
          ? { ...r, enabled: false }
          : r,
    )
    loose.dedup.near.enabled = false
    const summary = await runClean(datasetId, loose, deps(store))
    expect(summary.byRule.language).toBeUndefined()
    expect(summary.byRule.dedup_near).toBeUndefined()
    const french = store.documentQueries.list({ datasetId, search: 'marché' }, 'id', 0, 1).items[0]
    expect(french.language).toBeNull()
    expect(store.cleanRuns.lastDone(datasetId)?.rules.dedup.near.enabled).toBe(false)
  })

  it('searches the original text, and the cleaned text where cleaning changed it', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const file = join(dir, 'notes.jsonl')
    writeFileSync(
      file,
      [
        { text: 'Write to jane.doe@example.org about the harbour plan.' },
        { text: 'Nothing personal in this one about the harbour.' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    )
    const { datasetId } = await importFiles(store, [file])
    const onlyPii = defaultRuleSet()
    onlyPii.rules = onlyPii.rules.map((r) => ({ ...r, enabled: r.id === 'pii' }))
    onlyPii.dedup.exact.enabled = false
    onlyPii.dedup.near.enabled = false
    await runClean(datasetId, onlyPii, deps(store))
    const search = (q: string) =>
      store.documentQueries.list({ datasetId, search: q }, 'id', 0, 10).items.map((d) => d.id)
    const [redacted, plain] = store.documentQueries.list({ datasetId }, 'id', 0, 10).items
    expect(search('EMAIL')).toEqual([redacted.id])
    expect(search('jane.doe@example.org')).toEqual([redacted.id])
    expect(search('harbour')).toEqual([redacted.id, plain.id])
    expect(search('harb')).toEqual([redacted.id, plain.id])
    expect(search('"; DROP TABLE documents; --')).toEqual([])
    // An unchanged document shows its text as the cleaned text, stored once.
    expect(store.documentQueries.detail(plain.id)?.cleanedText).toBe(
      'Nothing personal in this one about the harbour.',
    )
    const stored = sqlOf(store)
      .prepare<[number], string | null>('SELECT cleaned_text FROM documents WHERE id = ?')
      .pluck()
    expect(stored.get(plain.id)).toBeNull()
    expect(stored.get(redacted.id)).toContain('<EMAIL>')
    // The same search once more after a re-run: the index follows the text.
    await runClean(datasetId, defaultRuleSet(), deps(store))
    expect(search('harbour')).toHaveLength(2)
    // Without redaction the document is no longer modified: its placeholder leaves the index.
    const noPii = defaultRuleSet()
    noPii.rules = noPii.rules.map((r) => ({ ...r, enabled: r.id !== 'pii' && r.enabled }))
    await runClean(datasetId, noPii, deps(store))
    expect(search('EMAIL')).toEqual([])
    expect(search('jane.doe@example.org')).toEqual([redacted.id])
  })

  it('exports JSON Lines with id, source, cleaned text, status and reasons', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const { datasetId } = await importFiles(store, [join(makeImportFolder(dir).root, 'corpus')])
    await runClean(datasetId, defaultRuleSet(), deps(store))
    const out = join(dir, 'kept.jsonl')
    const r = await exportJsonl(
      store,
      datasetId,
      'kept',
      out,
      () => undefined,
      () => undefined,
    )
    const lines = (await import('node:fs'))
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(r.documents)
    expect(r.documents).toBe(store.dataStats.stats(datasetId).counts.kept)
    for (const l of lines) {
      expect(l).toMatchObject({ status: 'kept' })
      expect(Object.keys(l)).toEqual(
        expect.arrayContaining(['id', 'source', 'text', 'status', 'reasons']),
      )
    }
    expect(lines.map((l) => l.text).join('\n')).toContain('<EMAIL>')
  })
})
