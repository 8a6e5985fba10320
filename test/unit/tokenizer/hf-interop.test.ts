/**
 * Interoperability with Hugging Face's own library (`tokenizers`, the official Node binding of
 * the Rust crate; a devDependency used only here): the tokenizer.json we write loads there and
 * gives the same ids and text, the files it writes load here, and our trainer learns the merges
 * its trainer learns.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as hf from 'tokenizers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BpeTokenizer,
  fromJSON,
  PRETOKENIZER_PATTERNS,
  pretokenize,
  toJsPattern,
  trainBpe,
  trainChar,
  type Tokenizer,
} from '../../../src/worker/tokenizer'
import { BYTE_TO_CHAR, bytesToToken, utf8 } from '../../../src/worker/tokenizer/bytes'
import { hostileString, int, mulberry32, multilingualDocs } from './corpus'

const docs = multilingualDocs(7, 120_000)

/** Texts to compare on: prose, hostile strings, whitespace corner cases, special tokens. */
function samples(): string[] {
  const rng = mulberry32(99)
  const out = [
    '',
    ' ',
    '\n',
    '\r\n\r\n',
    'Hello world',
    "I'm sure they'LL say it's fine, we've done it, DON'T",
    'x = 1234567 + 89;\n\n\tindent\n   three spaces then text',
    'trailing spaces   ',
    '   leading spaces',
    'a\u0085b\u00a0c\ufeffd\u200be\u2028f\u3000g\u180eh',
    'emoji 👨‍👩‍👧‍👦 flags 🇯🇵 skin 👍🏽 and text',
    'مرحبا بالعالم، كيف حالك؟ שלום עולם',
    '日本語のテキストと中文文本，한국어 텍스트',
    'नमस्ते दुनिया क्षत्रिय',
    'e\u0301 vs é, n\u0303, Å vs A\u030a',
    '<|bos|>begins<|eos|> and <|pad|><|pad|> <|eos|',
    'a'.repeat(3000) + ' ' + '中'.repeat(500),
    docs.slice(0, 20).join(''),
  ]
  for (let i = 0; i < 60; i++) out.push(hostileString(rng, 1 + int(rng, 120)))
  // Lone surrogates reach Hugging Face as U+FFFD (Node's UTF-8 conversion), as they do here.
  for (let i = 0; i < 10; i++) out.push(hostileString(rng, 1 + int(rng, 60), true))
  return out
}

/** The split pattern in Meta's Llama 3 tokenizer.json, and OpenAI's o200k (GPT-4o), verbatim. */
const LLAMA3_OFFICIAL =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
const O200K = [
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  '\\p{N}{1,3}',
  ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*',
  '\\s*[\\r\\n]+',
  '\\s+(?!\\S)',
  '\\s+',
].join('|')

const PRETOKENIZED_GPT2 =
  '{"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}}'

const splitPretokenizer = (pattern: string) => ({
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
})

async function hfIds(tok: hf.Tokenizer, text: string): Promise<number[]> {
  return (await tok.encode(text, null, { addSpecialTokens: false })).getIds()
}

async function expectSameAsHf(ours: Tokenizer, theirs: hf.Tokenizer) {
  expect(theirs.getVocabSize(true)).toBe(ours.vocabSize)
  for (const s of ours.specialTokens) expect(theirs.tokenToId(s.content)).toBe(s.id)
  for (const text of samples()) {
    const ids = ours.encode(text, { allowSpecial: true })
    expect(Array.from(ids), JSON.stringify(text.slice(0, 80))).toEqual(await hfIds(theirs, text))
    expect(await theirs.decode(Array.from(ids), false)).toBe(ours.decode(ids))
    expect(await theirs.decode(Array.from(ids), true)).toBe(ours.decode(ids, { skipSpecial: true }))
  }
  // Arbitrary id sequences, which can cut characters apart: same replacement characters.
  const rng = mulberry32(5)
  for (let i = 0; i < 200; i++) {
    const ids = Array.from({ length: 1 + int(rng, 12) }, () => int(rng, ours.vocabSize))
    expect(ours.decode(ids), ids.join(',')).toBe(await theirs.decode(ids, false))
  }
}

describe('Hugging Face tokenizers reads what we write', () => {
  it('splits text into exactly the pieces Hugging Face splits it into', async () => {
    const { tokenizer } = await trainBpe(docs.slice(0, 5), { vocabSize: 300 })
    const asGpt2 = tokenizer.toJSON()
    asGpt2.pre_tokenizer = (
      JSON.parse(PRETOKENIZED_GPT2) as { pre_tokenizer: unknown }
    ).pre_tokenizer
    const cases = [
      [tokenizer.toJSON(), PRETOKENIZER_PATTERNS.llama3],
      [
        { ...tokenizer.toJSON(), pre_tokenizer: splitPretokenizer(PRETOKENIZER_PATTERNS.gpt2) },
        PRETOKENIZER_PATTERNS.gpt2,
      ],
      [asGpt2, PRETOKENIZER_PATTERNS.gpt2],
    ] as const
    for (const [json, pattern] of cases) {
      const pre = hf.Tokenizer.fromString(JSON.stringify(json)).getPreTokenizer()!
      for (const text of samples()) {
        const theirs = pre.preTokenizeString(text).map(([piece]) => piece)
        const ours = pretokenize(text, pattern).map((p) => bytesToToken(utf8(p)))
        expect(ours, JSON.stringify(text.slice(0, 80))).toEqual(theirs)
      }
    }
  })

  it("splits with other models' Oniguruma patterns (\\s, (?i:…)) as Hugging Face does", async () => {
    const { tokenizer } = await trainBpe(docs.slice(0, 5), { vocabSize: 300 })
    for (const pattern of [LLAMA3_OFFICIAL, O200K]) {
      const json = { ...tokenizer.toJSON(), pre_tokenizer: splitPretokenizer(pattern) }
      const pre = hf.Tokenizer.fromString(JSON.stringify(json)).getPreTokenizer()!
      const ours = fromJSON(json)
      expect((ours as BpeTokenizer).patterns).toEqual([pattern])
      for (const text of [...samples(), "it'ſ THEY'LL 'S'K"]) {
        const theirs = pre.preTokenizeString(text).map(([piece]) => piece)
        const mine = pretokenize(text, toJsPattern(pattern)).map((p) => bytesToToken(utf8(p)))
        expect(mine, JSON.stringify(text.slice(0, 80))).toEqual(theirs)
      }
    }
  })

  it('byte-level BPE with the Llama 3 pattern: same ids, same text', async () => {
    const { tokenizer } = await trainBpe(docs, { vocabSize: 1200 })
    await expectSameAsHf(tokenizer, hf.Tokenizer.fromString(tokenizer.serialize()))
  })

  it('byte-level BPE with the GPT-2 pattern and a custom special token', async () => {
    const { tokenizer } = await trainBpe(docs, {
      vocabSize: 800,
      pretokenizer: 'gpt2',
      specialTokens: ['<|endoftext|>', '<|bos|>', '<|eos|>', '<|pad|>'],
    })
    await expectSameAsHf(tokenizer, hf.Tokenizer.fromString(tokenizer.serialize()))
  })

  it("GPT-2's own ByteLevel regex form (Oniguruma's \\s) splits as our GPT-2 pattern", async () => {
    const { tokenizer } = await trainBpe(docs, { vocabSize: 700, pretokenizer: 'gpt2' })
    const json = tokenizer.toJSON()
    json.pre_tokenizer = {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    }
    const ours = fromJSON(json)
    expect(ours).toBeInstanceOf(BpeTokenizer)
    expect((ours as BpeTokenizer).patterns).toEqual([PRETOKENIZER_PATTERNS.gpt2])
    await expectSameAsHf(ours, hf.Tokenizer.fromString(JSON.stringify(json)))
  })

  it('ignore_merges (as in Llama 3): a piece that is a token is taken whole', async () => {
    const { tokenizer } = await trainBpe(docs, { vocabSize: 600 })
    const json = tokenizer.toJSON()
    // A token no merge can build: only ignore_merges can produce it.
    json.model.vocab['Ġzzqqy'] = tokenizer.vocabSize
    json.model.ignore_merges = true
    const ours = fromJSON(json)
    const theirs = hf.Tokenizer.fromString(JSON.stringify(json))
    expect(Array.from(ours.encode('a zzqqy b'))).toContain(tokenizer.vocabSize)
    expect(ours.serialize()).toContain('"ignore_merges":true')
    await expectSameAsHf(ours, theirs)
  })

  it('character tokenizer with byte fallback: unseen characters as bytes, same ids', async () => {
    const { tokenizer } = await trainChar(docs.slice(0, 10))
    expect(tokenizer.byteFallback).toBe(true)
    await expectSameAsHf(tokenizer, hf.Tokenizer.fromString(tokenizer.serialize()))
  })

  it('character tokenizer without byte fallback: unseen characters as <|unk|>', async () => {
    const { tokenizer } = await trainChar(docs.slice(0, 10), { byteFallback: false })
    const theirs = hf.Tokenizer.fromString(tokenizer.serialize())
    for (const text of samples()) {
      const ids = tokenizer.encode(text, { allowSpecial: true })
      expect(Array.from(ids)).toEqual(await hfIds(theirs, text))
      expect(await theirs.decode(Array.from(ids), false)).toBe(tokenizer.decode(ids))
    }
  })
})

describe('Hugging Face trains, we read and match', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'frugal-hf-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** An untrained tokenizer.json with our pre-tokenizer, for HF's `train` (default trainer). */
  function untrained(pattern: string): hf.Tokenizer {
    const template = JSON.parse(
      `{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
        "pre_tokenizer":{"type":"Sequence","pretokenizers":[
          {"type":"Split","pattern":{"Regex":${JSON.stringify(pattern)}},"behavior":"Isolated","invert":false},
          {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]},
        "post_processor":null,"decoder":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false},
        "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,
          "end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false,"vocab":{},"merges":[]}}`,
    ) as object
    return hf.Tokenizer.fromString(JSON.stringify(template))
  }

  it('our trainer learns exactly the merges Hugging Face learns, in the same order', async () => {
    // The Node binding trains only with its default trainer (vocabulary 30 000, every pair
    // that occurs): on this corpus that exhausts every pair, and so must ours. HF reads a file
    // line by line, keeping line endings: feed ours the same lines.
    const corpus = docs.slice(0, 80).join('')
    const file = join(dir, 'corpus.txt')
    writeFileSync(file, corpus)
    const theirs = untrained(PRETOKENIZER_PATTERNS.llama3)
    theirs.train([file])
    const saved = join(dir, 'trained.json')
    theirs.save(saved)
    const hfJson = JSON.parse(readFileSync(saved, 'utf8')) as { model: { merges: string[][] } }
    const hfMerges = hfJson.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : String(m)))

    const lines = corpus.match(/[^\n]*\n|[^\n]+$/g)!
    const { tokenizer, stats } = await trainBpe(lines, {
      vocabSize: 30_000,
      minFrequency: 1,
      specialTokens: [],
    })
    expect(stats.stopReason).toBe('no_frequent_pair')
    const ours = tokenizer
      .merges()
      .map(([a, b]) => `${tokenizer.idToToken(a)} ${tokenizer.idToToken(b)}`)
    expect(hfMerges.length).toBeGreaterThan(1000)
    expect(ours).toEqual(hfMerges)
  })

  it('reads a tokenizer.json written by Hugging Face and encodes as it does', async () => {
    const corpus = docs.slice(0, 40).join('')
    const file = join(dir, 'small.txt')
    writeFileSync(file, corpus)
    const theirs = untrained(PRETOKENIZER_PATTERNS.gpt2)
    theirs.train([file])
    const saved = join(dir, 'small.json')
    theirs.save(saved)
    // Their file has only the bytes the corpus used: add the rest so any text encodes, then a
    // special token after the model's ids (where Llama 3 keeps its own).
    const json = JSON.parse(readFileSync(saved, 'utf8')) as {
      added_tokens: object[]
      model: { vocab: Record<string, number> }
    }
    let next = Object.keys(json.model.vocab).length
    for (const c of BYTE_TO_CHAR) if (!(c in json.model.vocab)) json.model.vocab[c] = next++
    json.added_tokens.push({
      id: next,
      content: '<|endoftext|>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })
    const text = JSON.stringify(json)
    const ours = fromJSON(text)
    expect(ours.eos).toBe(next)
    expect(ours.bos).toBe(next)
    await expectSameAsHf(ours, hf.Tokenizer.fromString(text))
  })
})
