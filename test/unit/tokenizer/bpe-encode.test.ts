import { beforeAll, describe, expect, it } from 'vitest'
import { BpeTokenizer, fromJSON, trainBpe } from '../../../src/worker/tokenizer'
import { BYTE_TO_CHAR, utf8 } from '../../../src/worker/tokenizer/bytes'
import { parseJson } from '../../../src/worker/tokenizer/hf-json'
import { pretokenize } from '../../../src/worker/tokenizer/pretokenize'
import { hostileString, int, mulberry32, multilingualDocs } from './corpus'

const wellFormed = (s: string) =>
  new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(s))

/** GPT-2's reference `bpe()`: merge every occurrence of the lowest-ranked pair, repeat. */
function naiveEncode(tok: BpeTokenizer, text: string): number[] {
  const rank = new Map(tok.merges().map(([a, b], r) => [`${a},${b}`, r]))
  const ids: number[] = []
  for (const piece of pretokenize(text, tok.patterns[0])) {
    let syms = [...utf8(piece)].map((b) => tok.tokenToId(BYTE_TO_CHAR[b])!)
    for (;;) {
      let best = Infinity
      for (let i = 0; i + 1 < syms.length; i++)
        best = Math.min(best, rank.get(`${syms[i]},${syms[i + 1]}`) ?? Infinity)
      if (best === Infinity) break
      const [a, b] = tok.merges()[best]
      const z = tok.tokenToId(tok.idToToken(a)! + tok.idToToken(b)!)!
      const out: number[] = []
      for (let i = 0; i < syms.length; i++)
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(z)
          i++
        } else out.push(syms[i])
      syms = out
    }
    ids.push(...syms)
  }
  return ids
}

const EDGE_CASES = [
  '',
  ' ',
  '\n',
  '\r\n',
  '\r\n\r\n\r\n',
  '\t\t  \n \u00a0\u3000',
  ' '.repeat(1000),
  '\ufeffstarts with a byte-order mark',
  '\u0000\u0001\u001f\u007f\u0080\u009f control characters',
  'combining: e\u0301 a\u0308\u0301\u0327 Z\u0335\u0321\u0358',
  'RTL: עברית العربية \u202eevil\u202c \u2067isolate\u2069',
  'emoji 👨‍👩‍👧‍👦 🇫🇷🇯🇵 👍🏽 🏳️‍🌈 ❤️',
  'CJK 漢字かなカナ한글 and fullwidth ＡＢＣ１２３',
  'astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u{10ffff} \u{e0001}',
  'noncharacters \ufffe\uffff\u{fdd0}',
  '<|bos|>literal specials<|eos|><|pad|>',
  'a'.repeat(100_000),
  '中'.repeat(20_000),
  '🤖'.repeat(5_000),
  'x'.repeat(70) + 'é'.repeat(70) + '\n'.repeat(70),
]

describe('BpeTokenizer', () => {
  let tok: BpeTokenizer
  const docs = multilingualDocs(21, 60_000, 500)

  beforeAll(async () => {
    tok = (await trainBpe(docs, { vocabSize: 1500 })).tokenizer
  })

  it('gives text back exactly: edge cases', () => {
    for (const s of EDGE_CASES) {
      const ids = tok.encode(s)
      expect(ids).toBeInstanceOf(Int32Array)
      expect(tok.decode(ids) === s, JSON.stringify(s.slice(0, 60))).toBe(true)
    }
    expect(tok.encode('')).toHaveLength(0)
    expect(tok.decode([])).toBe('')
  })

  it('gives text back exactly: random mixed-script strings (seeded)', () => {
    const rng = mulberry32(123)
    for (let i = 0; i < 2000; i++) {
      const s = hostileString(rng, int(rng, 60))
      expect(tok.decode(tok.encode(s)), JSON.stringify(s)).toBe(s)
    }
    for (const d of docs) expect(tok.decode(tok.encode(d))).toBe(d)
  })

  it('encodes lone surrogates as U+FFFD, as TextEncoder does', () => {
    expect(tok.decode(tok.encode('a\ud800b\udfffc\ud83d'))).toBe('a\ufffdb\ufffdc\ufffd')
    expect(tok.encode('\ud800')).toEqual(tok.encode('\ufffd'))
    const rng = mulberry32(321)
    for (let i = 0; i < 500; i++) {
      const s = hostileString(rng, int(rng, 40), true)
      expect(tok.decode(tok.encode(s))).toBe(wellFormed(s))
    }
  })

  it("gives the reference algorithm's ids", () => {
    const rng = mulberry32(7)
    const texts = [
      ...docs.slice(0, 30),
      ...Array.from({ length: 300 }, () => hostileString(rng, 30)),
    ]
    for (const t of texts) expect(Array.from(tok.encode(t))).toEqual(naiveEncode(tok, t))
  })

  it('merges long words with the heap exactly as short ones by scanning', () => {
    const parts = parseJson(tok.serialize())
    if (parts.kind !== 'bpe') throw new Error('expected BPE')
    const scanOnly = new BpeTokenizer(parts, { shortWordBytes: Infinity })
    const heapOnly = new BpeTokenizer(parts, { shortWordBytes: 0 })
    const rng = mulberry32(8)
    const texts = [
      ...docs.slice(0, 20),
      ...Array.from({ length: 200 }, () => hostileString(rng, 50)),
      docs.join('').replace(/[\s\p{P}]/gu, ''), // one very long word
    ]
    for (const t of texts) expect(heapOnly.encode(t)).toEqual(scanOnly.encode(t))
  })

  it('gives the same ids whatever the cache holds', () => {
    const tiny = fromJSON(tok.serialize(), { cacheSize: 1 })
    for (const d of docs.slice(0, 20)) {
      const first = tok.encode(d)
      expect(tok.encode(d)).toEqual(first)
      expect(tiny.encode(d)).toEqual(first)
    }
  })

  it('reads written special tokens only when asked', () => {
    const text = 'a<|eos|>b<|bos|><|eos|'
    const plain = tok.encode(text)
    expect([...plain].some((id) => id < 3)).toBe(false)
    const special = tok.encode(text, { allowSpecial: true })
    expect([...special].filter((id) => id < 3)).toEqual([1, 0])
    expect(tok.decode(special)).toBe(text)
    expect(tok.decode(special, { skipSpecial: true })).toBe('ab<|eos|')
    expect(tok.decode([tok.bos!, ...tok.encode('hi'), tok.eos!, tok.pad!])).toBe(
      '<|bos|>hi<|eos|><|pad|>',
    )
  })

  it('prefers the longest special token at a position', async () => {
    const { tokenizer } = await trainBpe(['abc'], {
      vocabSize: 300,
      specialTokens: ['<|e|>', '<|e|>x', '<|eos|>'],
    })
    expect(Array.from(tokenizer.encode('<|e|>x<|e|>y', { allowSpecial: true }))).toEqual([
      1,
      0,
      ...tokenizer.encode('y'),
    ])
  })

  it('streams bytes for incremental decoding', () => {
    const text = docs[0] + '🤖中é'
    const ids = tok.encode(text)
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
    let out = ''
    for (const id of ids) out += decoder.decode(tok.decodeBytes([id]), { stream: true })
    out += decoder.decode()
    expect(out).toBe(text)
  })

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([0, tok.vocabSize])).toThrow(RangeError)
    expect(() => tok.decode([-1])).toThrow(RangeError)
    expect(() => tok.decode([1.5])).toThrow(RangeError)
    expect(tok.idToToken(tok.vocabSize)).toBeNull()
  })

  it('compresses text it was trained on', () => {
    const text = docs.join('')
    const bytesPerToken = utf8(text).length / tok.encode(text).length
    expect(bytesPerToken).toBeGreaterThan(2.5)
  })

  it('maps tokens and ids both ways', () => {
    for (let id = 0; id < tok.vocabSize; id++) expect(tok.tokenToId(tok.idToToken(id)!)).toBe(id)
    expect(tok.tokenToId('not a token')).toBeNull()
  })
})
