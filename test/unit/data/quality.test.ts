import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { defaultRuleSet } from '../../../src/shared/data/rules'
import { runImport } from '../../../src/worker/data/import/importer'
import { runClean } from '../../../src/worker/data/pipeline/clean'
import { runQualityRetrain } from '../../../src/worker/data/pipeline/rescore'
import { fmix32, fnv32 } from '../../../src/worker/data/dedup/hash'
import {
  HASH_BITS,
  extractFeatures,
  transientFeatures,
} from '../../../src/worker/data/quality/features'
import {
  accuracy,
  deserializeModel,
  predict,
  serializeModel,
  train,
} from '../../../src/worker/data/quality/logistic'
import { takeDocs } from '../../helpers/synthetic-corpus'
import { quietJobDeps } from '../../helpers/job-deps'
import { useTempDir } from '../../helpers/temp'
import { sqlOf } from '../../helpers/sql'

const tempDir = useTempDir('frugal-quality-')

const deps = quietJobDeps

/**
 * The quality features written plainly (words by regex, lines by split, Maps and Sets):
 * the reference the one-pass scanner must equal exactly.
 */
function referenceFeatures(fullText: string): { idx: number[]; val: number[] } {
  const text = fullText.slice(0, 20_000)
  const mask = (1 << HASH_BITS) - 1
  const isWordChar = (c: number) =>
    c < 0x80
      ? /[0-9A-Za-z]/.test(String.fromCharCode(c))
      : c >= 0xc0 &&
        !(c >= 0x2000 && c <= 0x2bff) &&
        !(c >= 0x3000 && c <= 0x303f) &&
        !(c >= 0xff00 && c <= 0xff0f)
  const words: string[] = []
  let current = ''
  for (const ch of text.split('')) {
    if (isWordChar(ch.charCodeAt(0))) current += ch.replace(/[A-Z]/, (u) => u.toLowerCase())
    else if (current) {
      words.push(current)
      current = ''
    }
  }
  if (current) words.push(current)
  const counted = words.slice(0, 1000).map(fnv32)
  const counts = new Map<number, number>()
  const bump = (b: number) => counts.set(b, (counts.get(b) ?? 0) + 1)
  counted.forEach((w, i) => {
    bump(w & mask)
    if (i > 0) bump(fmix32(Math.imul(counted[i - 1], 0x9e3779b1) ^ w) & mask)
  })
  const stop = new Set(
    'the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all would there their what so up out if about who get which go me'.split(
      ' ',
    ),
  )
  const visible = (ch: string) => !' \t\r\u00a0'.includes(ch)
  const lines = text
    .split('\n')
    .map((l) => l.split('').filter(visible).join(''))
    .filter((l) => l.length > 0)
  const lineHashes = lines.map((l) => fnv32(l))
  const nonSpace = text.split('').filter((ch) => ch !== '\n' && visible(ch))
  const clip = (x: number) => Math.min(1, Math.max(0, x))
  const nWords = Math.max(1, counted.length)
  const nLines = Math.max(1, lines.length)
  const chars = Math.max(1, nonSpace.length)
  const dense = [
    clip(Math.log10(counted.length + 1) / 4),
    clip(words.slice(0, 1000).join('').length / nWords / 10),
    clip(words.slice(0, 1000).filter((w) => stop.has(w)).length / nWords),
    clip(words.slice(0, 1000).filter((w) => /[^0-9]/.test(w)).length / nWords),
    lines.filter((l) => /[.!?"':;\u201d\u2019\u3002\uff01\uff1f]$/.test(l)).length / nLines,
    lines.filter((l) => l.length <= 30).length / nLines,
    lineHashes.filter((h, i) => lineHashes.indexOf(h) < i).length / nLines,
    clip(nonSpace.filter((ch) => /[0-9]/.test(ch)).length / chars),
    clip(nonSpace.filter((ch) => /[A-Z]/.test(ch)).length / chars),
    clip(
      nonSpace.filter((ch) => ch.charCodeAt(0) < 0x80 && !/[0-9A-Za-z]/.test(ch)).length / chars,
    ),
    lines.filter((l) => /^[-*\u2022\u2023\u25e6\u2043\u2219]/.test(l)).length / nLines,
    clip(((text.match(/<(?:EMAIL|PHONE|IP|CREDIT_CARD|BLOCKED)>/g) ?? []).length * 10) / nWords),
    clip(nonSpace.length / nLines / 400),
    clip(new Set(counted).size / nWords),
  ]
  const buckets = [...counts.keys()].sort((a, b) => a - b)
  const weights = buckets.map((b) => Math.fround(Math.log1p(counts.get(b)!)))
  const norm = Math.sqrt(buckets.reduce((n, b) => n + Math.log1p(counts.get(b)!) ** 2, 0)) || 1
  return {
    idx: [...buckets, ...dense.map((_, j) => mask + 1 + j)],
    val: [...weights.map((w) => Math.fround(w / norm)), ...dense.map(Math.fround)],
  }
}

describe('quality features', () => {
  it('equal a plain reference: hashed unigrams and bigrams, and the text statistics', () => {
    const texts = [
      ...takeDocs(200, 11).map((d) => d.text),
      '',
      'one',
      '- Menu\n- Home\n* About us\n\u2022 Contact\nHome\nHome\n',
      'ALL CAPS SHOUTING 12345!!! <EMAIL> and <PHONE>.\r\n\ttabbed\u00a0line',
      '东京是日本的首都。人口很多。\n\u201cQuoted,\u201d she said\u2019\nÉcole naïve café',
      'word '.repeat(1500),
      // A line of exactly 30 visible characters (short), lines ending in ; and :
      'abcdefghij abcdefghij abcdefghij\nfor (;;) x = 1;\nThe list:\nnot terminal',
    ]
    for (const text of texts) {
      const f = extractFeatures(text)
      expect({ idx: [...f.idx], val: [...f.val] }, text.slice(0, 60)).toEqual(
        referenceFeatures(text),
      )
      // The scoring path's vector (views of reused buffers) is the same one.
      const t = transientFeatures(text)
      expect({ idx: [...t.idx], val: [...t.val] }).toEqual({ idx: [...f.idx], val: [...f.val] })
    }
  })
})

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
    expect(summary.model).toMatchObject({ trainedOn: 'rules', decisions: 0 })
    expect(summary.model!.holdout).toBeGreaterThan(50)
    expect(summary.model!.holdoutAccuracy).toBeGreaterThan(0.8)
    const unscored = sqlOf(store)
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
    const kept = sqlOf(store)
      .prepare<[number], { id: number; text: string }>(
        `SELECT id, coalesce(cleaned_text, text) AS text FROM documents
           WHERE dataset_id = ? AND status = 'kept' ORDER BY id`,
      )
      .all(datasetId)
    const harbour = kept.filter((d) => /\bharbour\b/.test(d.text))
    const other = kept.filter((d) => !/\bharbour\b/.test(d.text))
    const now = new Date().toISOString()
    for (const d of harbour.slice(0, 60)) store.decisions.set(d.id, { decision: 'remove' }, now)
    for (const d of other.slice(0, 60)) store.decisions.set(d.id, { decision: 'keep' }, now)

    const meanScore = (ids: number[]) => {
      const stmt = sqlOf(store).prepare<[number], { s: number }>(
        'SELECT quality_score AS s FROM documents WHERE id = ?',
      )
      return ids.reduce((n, id) => n + stmt.get(id)!.s, 0) / ids.length
    }
    const unseenHarbour = harbour.slice(60).map((d) => d.id)
    const unseenOther = other.slice(60, 300).map((d) => d.id)
    const before = meanScore(unseenHarbour) - meanScore(unseenOther)

    const result = await runQualityRetrain(datasetId, deps(store))
    expect(result.model).toMatchObject({ trainedOn: 'decisions+rules', decisions: 120 })
    expect(result.model.decisionHoldoutAccuracy).not.toBeNull()
    const after = meanScore(unseenHarbour) - meanScore(unseenOther)
    // Undecided harbour texts now score clearly lower than the rest.
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
