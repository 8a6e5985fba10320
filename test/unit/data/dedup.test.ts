import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { DedupIndex } from '../../../src/worker/data/dedup/cluster'
import { DedupCandidates } from '../../../src/store/repos/dedup-candidates'
import { fingerprint } from '../../../src/worker/data/dedup/fingerprint'
import {
  bandKeys,
  candidateProbability,
  estimatedJaccard,
} from '../../../src/worker/data/dedup/minhash'
import { defaultRuleSet } from '../../../src/shared/data/rules'
import {
  processBatch,
  processDocument,
  type ProcessedDoc,
} from '../../../src/worker/data/pipeline/process'
import { Random, editWords, takeDocs } from '../../helpers/synthetic-corpus'
import { writeTransaction } from '../../../src/store/database'

const BINS = 14 * 8
const fp = (text: string) => fingerprint(text, { shingleWords: 5, bins: BINS, signature: true })
const sig = (text: string) => fp(text).signature!

/** The normalization deduplication applies, written plainly, to check the one-pass version. */
const normalize = (t: string) =>
  t
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\d/g, '0')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()

/** Exact Jaccard similarity of two texts' 5-word shingle sets. */
function jaccard(a: string, b: string): number {
  const shingles = (t: string) => {
    const w = normalize(t).split(' ')
    return new Set(w.slice(0, w.length - 4).map((_, i) => w.slice(i, i + 5).join(' ')))
  }
  const sa = shingles(a)
  const sb = shingles(b)
  let inter = 0
  for (const s of sa) if (sb.has(s)) inter++
  return inter / (sa.size + sb.size - inter)
}

describe('hashing', () => {
  it('is 64-bit integer hashing: stable across runs, a signature of unsigned 32-bit integers', () => {
    const f = fp('the quick brown fox jumps over the lazy dog')
    // Fixed values: fingerprints stored in a project must mean the same thing next year.
    expect(f.hash).toBe('c9faedbcc9e96337')
    expect(f.signature![0]).toBe(3216149743)
    expect(f.signature!.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true)
    expect(fp('the quick brown fox jumps over the lazy cat').hash).not.toBe(f.hash)
  })

  it('normalizes case, digits, punctuation, accents and spacing before comparing', () => {
    const a = fp('Café  OPENED in 1987!\nReally.')
    expect(normalize('Café  OPENED in 1987!\nReally.')).toBe('cafe opened in 0000 really')
    expect(fp('cafe opened in 2024 really')).toEqual(a)
    expect(fp('“Cafe” — opened, in 2024… really?')).toEqual(a)
    expect(fp('cafe opened in 24 really').hash).not.toBe(a.hash)
    expect(fp('cafe closed in 1987 really').hash).not.toBe(a.hash)
  })
})

describe('MinHash', () => {
  const docs = takeDocs(400)
    .filter((d) => d.kind === 'prose')
    .map((d) => d.text)

  it('gives identical texts identical signatures and estimates Jaccard without bias', () => {
    expect(estimatedJaccard(sig(docs[0]), sig(docs[0]))).toBe(1)
    const r = new Random(7)
    const errors: number[] = []
    for (const text of docs.slice(0, 60)) {
      const edited = editWords(text, 0.02 + r.next() * 0.2, r)
      errors.push(estimatedJaccard(sig(text), sig(edited)) - jaccard(text, edited))
    }
    const meanError = errors.reduce((a, b) => a + b, 0) / errors.length
    const meanAbs = errors.reduce((a, b) => a + Math.abs(b), 0) / errors.length
    expect(Math.abs(meanError)).toBeLessThan(0.03)
    // With 112 bins the standard error is at most 0.05.
    expect(meanAbs).toBeLessThan(0.06)
  })

  it('makes near duplicates LSH candidates and keeps distinct texts apart', () => {
    const r = new Random(11)
    let nearHits = 0
    // One word in a hundred changed: Jaccard of 5-word shingles about 0.9.
    for (const text of docs.slice(0, 50)) {
      const near = editWords(text, 0.01, r)
      const a = bandKeys(sig(text), 14, 8)
      const b = bandKeys(sig(near), 14, 8)
      if (a.some((k, i) => k === b[i])) nearHits++
    }
    expect(nearHits).toBeGreaterThanOrEqual(48)
    let falseHits = 0
    for (let i = 0; i < 60; i++) {
      const a = bandKeys(sig(docs[i]), 14, 8)
      const b = bandKeys(sig(docs[i + 60]), 14, 8)
      if (a.some((k, j) => k === b[j])) falseHits++
    }
    expect(falseHits).toBe(0)
    // The S-curve of 14 bands x 8 rows: threshold near 0.72.
    expect(candidateProbability(0.8, 14, 8)).toBeCloseTo(0.92, 2)
    expect(candidateProbability(0.5, 14, 8)).toBeLessThan(0.06)
  })

  it('gives a batch the same results as one document at a time, signatures in one buffer', () => {
    const rules = defaultRuleSet()
    const config = { rules: rules.rules, dedup: rules.dedup }
    const batch = takeDocs(120, 3).map((d, i) => ({ id: i + 1, text: d.text }))
    const together = processBatch(batch, config, null, true)
    const plain = (r: ProcessedDoc) => ({
      ...r,
      signature: r.signature && [...r.signature],
      features: r.features && { idx: [...r.features.idx], val: [...r.features.val] },
    })
    expect(together.map(plain)).toEqual(
      batch.map((d) => plain(processDocument(d, config, null, true))),
    )
    const signed = together.filter((r) => r.signature !== null)
    expect(signed.length).toBeGreaterThan(50)
    expect(new Set(signed.map((r) => r.signature!.buffer)).size).toBe(1)
  })

  it('handles texts shorter than a shingle and empty ones', () => {
    expect(fp('').signature).toBeNull()
    expect(fp(' ... !!! ').signature).toBeNull()
    const short = sig('two words')
    expect(short).toHaveLength(BINS * 2)
    expect(estimatedJaccard(short, sig('Two  words.'))).toBe(1)
  })
})

describe('clustering', () => {
  it('clusters exact and near duplicates, keeps the first of each, merges nothing else', () => {
    const db = new Database(':memory:')
    const index = new DedupIndex(new DedupCandidates(db, 14), {
      exact: true,
      near: true,
      bands: 14,
      rows: 8,
      minSimilarity: 0.72,
    })
    const prose = takeDocs(300)
      .filter((d) => d.kind === 'prose')
      .map((d) => d.text)
    const r = new Random(3)
    const texts = new Map<number, string>()
    prose.slice(0, 100).forEach((t, i) => texts.set(i + 1, t))
    texts.set(101, prose[5]) // exact copy of #6
    texts.set(102, editWords(prose[7], 0.01, r)) // near copy of #8
    texts.set(103, editWords(prose[7], 0.01, r)) // another near copy of #8
    texts.set(104, `${prose[9]} And one more sentence at the end.`) // small addition to #10
    const sigs = new Map([...texts].map(([id, t]) => [id, sig(t)]))
    const hashes = new Map([...texts].map(([id, t]) => [id, fp(t).hash]))
    writeTransaction(db, () => {
      for (const id of texts.keys()) index.add(id, hashes.get(id)!, sigs.get(id)!)
    })
    const clusters = index.clusters(() => undefined)
    const summary = clusters.map((c) => [c.keep, c.duplicates.map((d) => [d.id, d.kind])])
    expect(summary).toEqual([
      [6, [[101, 'exact']]],
      [
        8,
        [
          [102, 'near'],
          [103, 'near'],
        ],
      ],
      [10, [[104, 'near']]],
    ])
    for (const c of clusters)
      for (const d of c.duplicates) expect(d.similarity).toBeGreaterThanOrEqual(0.72)
    index.dispose()
  })
})
