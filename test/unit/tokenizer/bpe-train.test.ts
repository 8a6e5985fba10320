import { describe, expect, it } from 'vitest'
import { UserError } from '../../../src/shared/errors'
import { trainBpe, type TrainProgress } from '../../../src/worker/tokenizer'
import { BYTE_TO_CHAR, BYTES_IN_CHAR_ORDER, utf8 } from '../../../src/worker/tokenizer/bytes'
import {
  pretokenize,
  PRETOKENIZER_PATTERNS,
  safeCut,
} from '../../../src/worker/tokenizer/pretokenize'
import { forEachChunk, Pacer } from '../../../src/worker/tokenizer/train-common'
import { hostileString, int, mulberry32, multilingualDocs } from './corpus'

/**
 * The textbook algorithm, written for clarity: recount every pair of every word before each
 * merge. Same tie rule (smaller ids first), same handling of a merge whose string exists.
 */
function naiveTrain(
  texts: string[],
  opts: { vocabSize: number; minFrequency: number; specials: string[]; maxTokenBytes?: number },
): string[] {
  const counts = new Map<string, number>()
  for (const t of texts) for (const p of pretokenize(t)) counts.set(p, (counts.get(p) ?? 0) + 1)
  const tokens = [...opts.specials, ...BYTES_IN_CHAR_ORDER.map((b) => BYTE_TO_CHAR[b])]
  const ids = new Map(tokens.map((t, i) => [t, i]))
  const words = [...counts].map(([w, c]) => ({
    syms: [...utf8(w)].map((b) => ids.get(BYTE_TO_CHAR[b])!),
    c,
  }))
  const banned = new Set<string>()
  const merges: string[] = []
  while (tokens.length < opts.vocabSize) {
    const pairs = new Map<string, { a: number; b: number; n: number }>()
    for (const { syms, c } of words)
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = `${syms[i]},${syms[i + 1]}`
        const p = pairs.get(k) ?? { a: syms[i], b: syms[i + 1], n: 0 }
        p.n += c
        pairs.set(k, p)
      }
    const best = [...pairs.values()]
      .filter((p) => !banned.has(`${p.a},${p.b}`))
      .sort((x, y) => y.n - x.n || x.a - y.a || x.b - y.b)
    const top = best[0]
    if (!top || top.n < opts.minFrequency) break
    const merged = tokens[top.a] + tokens[top.b]
    const tokenBytes = (id: number) => (id < opts.specials.length ? 0 : tokens[id].length)
    if (
      opts.specials.includes(merged) ||
      tokenBytes(top.a) + tokenBytes(top.b) > (opts.maxTokenBytes ?? Infinity)
    ) {
      banned.add(`${top.a},${top.b}`)
      continue
    }
    let z = ids.get(merged)
    if (z === undefined) {
      z = tokens.length
      tokens.push(merged)
      ids.set(merged, z)
    }
    merges.push(`${tokens[top.a]} ${tokens[top.b]}`)
    for (const w of words) {
      const out: number[] = []
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === top.a && w.syms[i + 1] === top.b) {
          out.push(z)
          i++
        } else out.push(w.syms[i])
      }
      w.syms = out
    }
  }
  return merges
}

const mergeStrings = (t: Awaited<ReturnType<typeof trainBpe>>['tokenizer']) =>
  t.merges().map(([a, b]) => `${t.idToToken(a)} ${t.idToToken(b)}`)

describe('trainBpe', () => {
  const docs = multilingualDocs(11, 12_000, 300)

  it('learns the same merges as the textbook algorithm', async () => {
    const opts = { vocabSize: 700, minFrequency: 2, specials: ['<|bos|>', '<|eos|>'] }
    const { tokenizer, stats } = await trainBpe(docs, {
      vocabSize: opts.vocabSize,
      minFrequency: opts.minFrequency,
      specialTokens: opts.specials,
    })
    const expected = naiveTrain(docs, opts)
    expect(expected.length).toBeGreaterThan(300)
    expect(mergeStrings(tokenizer)).toEqual(expected)
    expect(stats.merges).toBe(expected.length)
  })

  it('matches it on runs of repeated letters, where a pair overlaps itself', async () => {
    const rng = mulberry32(4)
    const texts = Array.from({ length: 300 }, () =>
      Array.from({ length: 1 + int(rng, 6) }, () => 'ab'[int(rng, 2)].repeat(1 + int(rng, 7))).join(
        int(rng, 3) === 0 ? ' ' : '',
      ),
    )
    for (const maxTokenBytes of [undefined, 3]) {
      const { tokenizer } = await trainBpe(texts, {
        vocabSize: 400,
        minFrequency: 1,
        specialTokens: [],
        maxTokenBytes: maxTokenBytes ?? null,
      })
      const expected = naiveTrain(texts, {
        vocabSize: 400,
        minFrequency: 1,
        specials: [],
        maxTokenBytes,
      })
      expect(expected.length).toBeGreaterThan(10)
      expect(mergeStrings(tokenizer)).toEqual(expected)
    }
  })

  it('lays out ids as specials, the 256 bytes, then merges, and fills the vocabulary', async () => {
    const { tokenizer, stats } = await trainBpe(docs, { vocabSize: 600 })
    expect(tokenizer.vocabSize).toBe(600)
    expect(stats.stopReason).toBe('vocab_full')
    expect(tokenizer.specialTokens).toEqual([
      { id: 0, content: '<|bos|>' },
      { id: 1, content: '<|eos|>' },
      { id: 2, content: '<|pad|>' },
    ])
    expect([tokenizer.bos, tokenizer.eos, tokenizer.pad]).toEqual([0, 1, 2])
    expect(tokenizer.idToToken(3)).toBe('!')
    expect(tokenizer.idToToken(3 + 255)).toBe('Ń')
    expect(tokenizer.tokenToId('Ġ')).toBe(3 + BYTES_IN_CHAR_ORDER.indexOf(0x20))
    expect(stats.texts).toBe(docs.length)
    expect(stats.bytes).toBe(docs.reduce((n, d) => n + utf8(d).length, 0))
  })

  it('stops when no pair is frequent enough', async () => {
    const { tokenizer, stats } = await trainBpe(['abc abc abc xyz'], {
      vocabSize: 1000,
      minFrequency: 3,
      specialTokens: [],
    })
    expect(stats.stopReason).toBe('no_frequent_pair')
    // (a,b) and (b,c) both occur 3 times: the smaller ids win. (Ġ,abc) occurs twice.
    expect(mergeStrings(tokenizer)).toEqual(['a b', 'ab c'])
    expect(tokenizer.vocabSize).toBe(258)
  })

  it('does not depend on the order of the texts, and reads async iterables', async () => {
    const a = await trainBpe(docs, { vocabSize: 500 })
    const shuffled = [...docs].reverse()
    async function* stream() {
      for (const d of shuffled) {
        await Promise.resolve() // as a database cursor would
        yield d
      }
    }
    const b = await trainBpe(stream(), { vocabSize: 500 })
    expect(b.tokenizer.serialize()).toBe(a.tokenizer.serialize())
  })

  it('never learns a token spelled like a special token', async () => {
    const texts = Array.from({ length: 50 }, () => 'x <|eos|> y<|eos|>')
    const { tokenizer } = await trainBpe(texts, { vocabSize: 320, minFrequency: 1 })
    const eos = tokenizer.eos!
    for (let id = 0; id < tokenizer.vocabSize; id++)
      if (id !== eos) expect(tokenizer.idToToken(id)).not.toBe('<|eos|>')
    const ids = tokenizer.encode('<|eos|>')
    expect(ids).not.toContain(eos)
    expect(tokenizer.decode(ids)).toBe('<|eos|>')
  })

  it('keeps tokens within maxTokenBytes', async () => {
    const { tokenizer } = await trainBpe(docs, { vocabSize: 900, maxTokenBytes: 4 })
    for (let id = 3; id < tokenizer.vocabSize; id++)
      expect(tokenizer.decodeBytes([id]).length).toBeLessThanOrEqual(4)
  })

  it('bounds memory by dropping the rarest pieces past maxWordTypes', async () => {
    const rng = mulberry32(9)
    const texts = Array.from({ length: 400 }, () => hostileString(rng, 30))
    const { stats } = await trainBpe(texts, { vocabSize: 400, maxWordTypes: 1000 })
    expect(stats.prunedWordTypes).toBeGreaterThan(0)
    expect(stats.wordTypes).toBeLessThanOrEqual(1000)
  })

  it('reports progress for counting and merging', async () => {
    const events: TrainProgress[] = []
    const total = docs.reduce((n, d) => n + utf8(d).length, 0)
    const { stats } = await trainBpe(docs, { vocabSize: 500, totalBytes: total }, (p) =>
      events.push(p),
    )
    const counts = events.filter((e) => e.phase === 'count')
    const merges = events.filter((e) => e.phase === 'merge')
    expect(counts.at(-1)).toMatchObject({ texts: docs.length, bytes: total, fraction: 1 })
    expect(merges.at(-1)).toMatchObject({
      merges: stats.merges,
      targetMerges: 500 - 259,
      fraction: 1,
    })
  })

  it('can be cancelled before, between and during phases', async () => {
    const before = new AbortController()
    before.abort()
    await expect(trainBpe(docs, {}, undefined, before.signal)).rejects.toThrow(/abort/i)

    // Counting always ends with a report; aborting there stops before any merge.
    const between = new AbortController()
    const phases: string[] = []
    const run1 = trainBpe(
      docs,
      { vocabSize: 2000 },
      (p) => {
        phases.push(p.phase)
        between.abort()
      },
      between.signal,
    )
    await expect(run1).rejects.toMatchObject({ name: 'AbortError' })
    expect(phases).toEqual(['count'])

    // The merge loop reports after its first 50 ms slice (this one merges for ~0.25 s on
    // the development machine); aborting there stops it at its next merge.
    const during = new AbortController()
    const merges: number[] = []
    const run2 = trainBpe(
      multilingualDocs(12, 2_000_000),
      { vocabSize: 32_000, minFrequency: 1 },
      (p) => {
        if (p.phase !== 'merge') return
        merges.push(p.merges)
        during.abort()
      },
      during.signal,
    )
    await expect(run2).rejects.toMatchObject({ name: 'AbortError' })
    expect(merges).toHaveLength(1)
    expect(merges[0]).toBeLessThan(32_000 - 259)
  })

  it('rejects impossible options with a field to blame', async () => {
    const fails = async (options: object, field: string) => {
      const err: unknown = await trainBpe(['a'], options).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UserError)
      expect((err as UserError).field).toBe(field)
    }
    await fails({ vocabSize: 258 }, 'vocabSize')
    await fails({ vocabSize: 100 }, 'vocabSize')
    await fails({ specialTokens: ['<a>', '<a>'] }, 'specialTokens')
    await fails({ specialTokens: ['!'] }, 'specialTokens')
    await fails({ specialTokens: ['\ud800'] }, 'specialTokens')
    await fails({ minFrequency: 0 }, 'minFrequency')
    await fails({ vocab: 10 }, '')
    await expect(trainBpe('a whole corpus in one string', {})).rejects.toThrow(TypeError)
  })
})

describe('Pacer', () => {
  it('yields to the event loop after a slice of work and then sees an abort', async () => {
    const controller = new AbortController()
    let reports = 0
    const pacer = new Pacer(controller.signal, () => reports++)
    let timerRan = false
    // Like a cancel message arriving while the loop runs: handled when the loop yields.
    setImmediate(() => {
      timerRan = true
      controller.abort()
    })
    const start = performance.now()
    await pacer.tick() // within the first slice: returns at once, without yielding
    expect(timerRan).toBe(false)
    while (performance.now() - start < 60) {
      // busy, as a merge loop is
    }
    await expect(pacer.tick()).rejects.toMatchObject({ name: 'AbortError' })
    expect(timerRan).toBe(true)
    expect(reports).toBe(0)
  })
})

describe('forEachChunk', () => {
  it('reads a long text in safe pieces that add up to it', async () => {
    const text = multilingualDocs(5, 2_600_000).join('')
    const chunks: string[] = []
    let texts = 0
    await forEachChunk(
      [text, 'short'],
      safeCut,
      new Pacer(undefined, () => {}),
      (c) => chunks.push(c),
      () => texts++,
    )
    expect(texts).toBe(2)
    expect(chunks.length).toBeGreaterThanOrEqual(3)
    expect(chunks.join('')).toBe(text + 'short')
    let at = 0
    for (const c of chunks.slice(0, -2)) {
      at += c.length
      expect(text[at - 1]).toBe('\n')
      expect(safeCut(text, at)).toBe(at)
    }
    // Pieces at the cuts are the pieces of the whole text.
    const whole = pretokenize(text, PRETOKENIZER_PATTERNS.gpt2)
    expect(chunks.slice(0, -1).flatMap((c) => pretokenize(c, PRETOKENIZER_PATTERNS.gpt2))).toEqual(
      whole,
    )
  })
})
