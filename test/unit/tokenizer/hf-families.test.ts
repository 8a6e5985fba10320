/**
 * The tokenizer.json layouts of today's small open models (Qwen 2/2.5/3, SmolLM2, Llama 3.2),
 * rebuilt with a small vocabulary: Frugal must give exactly the ids and text of Hugging Face's own
 * library (the `tokenizers` package, the oracle here), and what Frugal writes back must still give
 * them there.
 */
import * as hf from 'tokenizers'
import { beforeAll, describe, expect, it } from 'vitest'
import { UserError } from '../../../src/shared/errors'
import {
  BpeTokenizer,
  fromJSON,
  PRETOKENIZER_PATTERNS,
  trainBpe,
  trainChar,
  type Tokenizer,
} from '../../../src/worker/tokenizer'
import { bytesToToken, utf8 } from '../../../src/worker/tokenizer/bytes'
import { DIGITS_PATTERNS, pretokenizeSteps } from '../../../src/worker/tokenizer/pretokenize'
import { hostileString, int, mulberry32, multilingualDocs } from './corpus'
import {
  addedToken,
  bpeModel,
  byteLevel,
  llamaJson,
  llamaSpecials,
  QWEN_ADDED,
  QWEN_PATTERN,
  qwenJson,
  SMOL_SPECIALS,
  smolJson,
  type TrainedModel,
} from '../../helpers/family-tokenizers'

type Json = Record<string, unknown>

/** Tokens no merge can build: only ignore_merges produces them. */
const WHOLE_ONLY = ['Ġzzqqy', 'qqzzx']

const docs = multilingualDocs(17, 80_000)

/** Model vocabulary and merges learned here, to dress in each family's layout. */
async function trainModel(pretokenizer: 'llama3' | 'gpt2', specials: string[] = []) {
  const { tokenizer } = await trainBpe(docs, {
    vocabSize: 900,
    pretokenizer,
    specialTokens: specials,
  })
  const { vocab, merges } = tokenizer.toJSON().model
  return { vocab: { ...vocab }, merges: merges as string[] } satisfies TrainedModel
}

/** Prose, digits and whitespace before them, non-NFC text, added tokens in text, hostile Unicode. */
function samples(added: readonly string[]): string[] {
  const rng = mulberry32(2024)
  const out = [
    '',
    ' ',
    '\n\n',
    'Hello world',
    "I'm sure they'LL say it's fine, we've done it, DON'T",
    'abc 123  4567',
    'x  1\t\t42\n 7 8  9   10',
    'price: 12,345.67 v1.2.3 0x1F 1e-9',
    '١٢٣ ٤٥ ²½Ⅻ 𝟏𝟐𝟑 １２',
    'trailing spaces   ',
    '   leading spaces',
    'a\u0085b\u00a0c\ufeffd\u200be\u2028f\u3000g\u180eh',
    'e\u0301 vs é, n\u0303, Å vs A\u030a vs \u212b, \u1100\u1161\u11a8, \u0071\u0307\u0323',
    'ﬁ ǅ Ǆ ſ K ｶ\u3099 \u2126',
    'emoji 👨‍👩‍👧‍👦 flags 🇯🇵 skin 👍🏽 and text',
    'مرحبا بالعالم، كيف حالك؟ שלום עולם',
    '日本語のテキストと中文文本，한국어 텍스트',
    'x = 1234567 + 89;\n\n\tindent\n   three spaces then text',
    'a'.repeat(2000) + ' ' + '9'.repeat(300) + ' ' + '中'.repeat(300),
    docs.slice(0, 15).join(''),
  ]
  // Added tokens alone, glued to text and digits, next to combining marks and each other.
  for (let i = 0; i < added.length; i += 3) {
    const [a, b = a, c = a] = added.slice(i, i + 3)
    out.push(`${a}user\n12 ${b}${c} x${a}\u0301 ${b.slice(0, -1)} ${c}${c}`)
  }
  for (let i = 0; i < 50; i++) {
    let s = hostileString(rng, 1 + int(rng, 100))
    if (added.length > 0 && i % 3 === 0) s = s + added[int(rng, added.length)] + s
    out.push(s)
  }
  for (let i = 0; i < 8; i++) out.push(hostileString(rng, 1 + int(rng, 60), true))
  return out
}

async function hfIds(tok: hf.Tokenizer, text: string, addSpecialTokens = false) {
  return (await tok.encode(text, null, { addSpecialTokens })).getIds()
}

/** Same ids on every sample (special tokens read, as Hugging Face does), same decoded text. */
async function expectSameAsHf(ours: Tokenizer, theirs: hf.Tokenizer, texts: readonly string[]) {
  expect(theirs.getVocabSize(true)).toBe(ours.vocabSize)
  for (const text of texts) {
    const ids = ours.encode(text, { allowSpecial: true })
    const label = JSON.stringify(text.slice(0, 80))
    expect(Array.from(ids), label).toEqual(await hfIds(theirs, text))
    expect(ours.decode(ids), label).toBe(await theirs.decode(Array.from(ids), false))
    expect(ours.decode(ids, { skipSpecial: true }), label).toBe(
      await theirs.decode(Array.from(ids), true),
    )
  }
  // Arbitrary id sequences, which can cut characters apart and mix in added tokens.
  const rng = mulberry32(8)
  for (let i = 0; i < 150; i++) {
    const ids = Array.from({ length: 1 + int(rng, 12) }, () => int(rng, ours.vocabSize))
    expect(ours.decode(ids), ids.join(',')).toBe(await theirs.decode(ids, false))
    expect(ours.decode(ids, { skipSpecial: true }), ids.join(',')).toBe(
      await theirs.decode(ids, true),
    )
  }
}

const mergeStrings = (merges: unknown) =>
  (merges as (string | string[])[]).map((m) => (typeof m === 'string' ? m : m.join(' ')))

/**
 * The file loads in both libraries with the same ids; what we write back loads in Hugging Face
 * with the same ids again, keeps every part that does not change ids as it was, and reads back
 * here to the same text.
 */
async function expectRoundTrip(json: Json, texts: readonly string[]): Promise<Tokenizer> {
  const text = JSON.stringify(json)
  const ours = fromJSON(text)
  await expectSameAsHf(ours, hf.Tokenizer.fromString(text), texts)

  const saved = ours.serialize()
  await expectSameAsHf(ours, hf.Tokenizer.fromString(saved), texts)
  expect(fromJSON(saved).serialize()).toBe(saved)
  const back = JSON.parse(saved) as Json
  for (const key of [
    'truncation',
    'padding',
    'added_tokens',
    'normalizer',
    'pre_tokenizer',
    'post_processor',
    'decoder',
  ])
    expect(back[key], key).toEqual(json[key])
  const { merges, ...model } = back.model as Json
  const { merges: originalMerges, ...originalModel } = json.model as Json
  expect(model).toEqual(originalModel)
  expect(mergeStrings(merges)).toEqual(mergeStrings(originalMerges))
  return ours
}

describe("today's small open models' tokenizer.json, against Hugging Face", () => {
  let llama3Model: TrainedModel
  let gpt2Model: TrainedModel
  let smolModel: TrainedModel

  beforeAll(async () => {
    llama3Model = await trainModel('llama3')
    gpt2Model = await trainModel('gpt2')
    smolModel = await trainModel('gpt2', SMOL_SPECIALS)
  })

  it('Qwen 2 / 2.5 / 3: NFC, the Qwen split pattern, special and non-special added tokens', async () => {
    const json = qwenJson(llama3Model)
    const ours = await expectRoundTrip(json, samples(QWEN_ADDED.map(([content]) => content)))
    expect(ours).toBeInstanceOf(BpeTokenizer)
    const n = Object.keys(llama3Model.vocab).length
    expect(ours.specialTokens.map((s) => s.content)).toEqual(
      QWEN_ADDED.filter(([, special]) => special).map(([c]) => c),
    )
    expect((ours as BpeTokenizer).addedTokens).toContainEqual({
      id: n + QWEN_ADDED.findIndex(([c]) => c === '<tool_call>'),
      content: '<tool_call>',
    })
    expect(ours.eos).toBe(n)

    // As in Hugging Face, decoding gives the NFC form: the round trip holds for NFC text only.
    expect(ours.decode(ours.encode('e\u0301 A\u030a \u212b'))).toBe('é Å Å')
    // Normalization runs between added tokens: a combining mark after one stays unattached.
    expect(ours.decode(ours.encode('<think>\u0301e\u0301'))).toBe('<think>\u0301é')
  })

  it('Qwen: non-special added tokens are always read, special ones only with allowSpecial', () => {
    const n = Object.keys(llama3Model.vocab).length
    const ours = fromJSON(qwenJson(llama3Model))
    const toolCall = n + QWEN_ADDED.findIndex(([c]) => c === '<tool_call>')
    const imStart = n + QWEN_ADDED.findIndex(([c]) => c === '<|im_start|>')
    const text = '<|im_start|>user\n<tool_call>{"a": 1}</tool_call><|im_end|>'
    const plain = Array.from(ours.encode(text))
    expect(plain).toContain(toolCall)
    expect(plain).not.toContain(imStart)
    expect(ours.decode(plain)).toBe(text)
    expect(Array.from(ours.encode(text, { allowSpecial: true }))).toContain(imStart)
    // Only special tokens are left out when skipping them.
    const ids = ours.encode(text, { allowSpecial: true })
    expect(ours.decode(ids, { skipSpecial: true })).toBe('user\n<tool_call>{"a": 1}</tool_call>')
  })

  it('Qwen: an added token marked normalized is found in the NFC text', async () => {
    const json = qwenJson(llama3Model)
    const added = json.added_tokens as ReturnType<typeof addedToken>[]
    const n = Object.keys(llama3Model.vocab).length
    const id = n + added.length
    added.push(addedToken(id, '<|Åω|>', false, true))
    added.push(addedToken(id + 1, '<|éω|>', false, false))
    const texts = ['<|A\u030aω|> <|\u00c5ω|> <|\u212bω|>', '<|e\u0301ω|> <|éω|>', ...samples([])]
    const ours = await expectRoundTrip(json, texts)
    // Normalized: found in the NFC text, whatever the raw form; not normalized: the raw form only.
    expect(Array.from(ours.encode('<|A\u030aω|>'))).toEqual([id])
    expect(Array.from(ours.encode('<|éω|>'))).toEqual([id + 1])
    expect(Array.from(ours.encode('<|e\u0301ω|>'))).not.toContain(id + 1)
  })

  it('SmolLM2: Digits then ByteLevel(use_regex), special tokens inside the vocabulary', async () => {
    const ours = await expectRoundTrip(smolJson(smolModel), samples(SMOL_SPECIALS))
    expect(ours.specialTokens).toHaveLength(17)
    expect(ours.specialTokens[16]).toEqual({ id: 16, content: '<empty_output>' })
    expect(ours.eos).toBe(0)
    expect((ours as BpeTokenizer).patterns).toEqual([
      DIGITS_PATTERNS.individual,
      PRETOKENIZER_PATTERNS.gpt2,
    ])
  })

  it('SmolLM2: the pieces are the ones Hugging Face cuts, not one combined pattern', () => {
    const pre = hf.Tokenizer.fromString(JSON.stringify(smolJson(smolModel))).getPreTokenizer()!
    const steps = [DIGITS_PATTERNS.individual, PRETOKENIZER_PATTERNS.gpt2]
    for (const text of samples([])) {
      const theirs = pre.preTokenizeString(text).map(([piece]) => piece)
      const ours = pretokenizeSteps(text, steps).map((p) => bytesToToken(utf8(p)))
      expect(ours, JSON.stringify(text.slice(0, 80))).toEqual(theirs)
    }
    // Whitespace before a digit: GPT-2's regex alone would give " 123"; here the space stands alone.
    expect(pretokenizeSteps('abc 123', steps)).toEqual(['abc', ' ', '1', '2', '3'])
  })

  it('Digits with individual_digits false keeps digit runs together', async () => {
    const json = smolJson(smolModel, false)
    const ours = await expectRoundTrip(json, samples(SMOL_SPECIALS))
    expect((ours as BpeTokenizer).patterns[0]).toBe(DIGITS_PATTERNS.runs)
  })

  it('Llama 3.2: Split + ByteLevel, ignore_merges, 256 special tokens after the model', async () => {
    const json = llamaJson(llama3Model, WHOLE_ONLY)
    const ours = await expectRoundTrip(json, samples(llamaSpecials().slice(0, 12)))
    const n = Object.keys(llama3Model.vocab).length
    expect(ours.vocabSize).toBe(n + WHOLE_ONLY.length + 256)
    expect(ours.bos).toBe(n + WHOLE_ONLY.length)
    const ids = Array.from(ours.encode('a zzqqy\nqqzzx'))
    expect(ids).toContain(n)
    expect(ids).toContain(n + 1)
    // The post-processor is kept: Hugging Face still starts a text with <|begin_of_text|>.
    const saved = hf.Tokenizer.fromString(ours.serialize())
    expect(await hfIds(saved, 'Hello', true)).toEqual([
      ours.bos!,
      ...Array.from(ours.encode('Hello')),
    ])
  })

  it('GPT-2 style files keep their ByteLevel form and options when written back', async () => {
    const json = smolJson(gpt2Model)
    json.added_tokens = []
    json.pre_tokenizer = byteLevel(false, true, true)
    json.model = bpeModel(gpt2Model, {})
    const ours = await expectRoundTrip(json, samples([]))
    expect((ours as BpeTokenizer).patterns).toEqual([PRETOKENIZER_PATTERNS.gpt2])
  })
})

describe('what Frugal cannot run with the same ids is refused, saying why', () => {
  let base: Json
  let charJson: Json

  beforeAll(async () => {
    base = qwenJson(await trainModel('llama3'))
    charJson = (await trainChar(docs.slice(0, 5))).tokenizer.toJSON() as unknown as Json
  })

  const refuse = (json: Json, edit: (j: Json) => void, message: RegExp) => {
    const bad = JSON.parse(JSON.stringify(json)) as Json
    edit(bad)
    let err: unknown
    try {
      fromJSON(bad)
    } catch (e) {
      err = e
    }
    expect(err, String(message)).toBeInstanceOf(UserError)
    expect((err as UserError).message).toMatch(message)
  }
  const sequence = (...steps: Json[]) => ({ type: 'Sequence', pretokenizers: steps })
  const split = (extra: Json) => ({
    type: 'Split',
    pattern: { Regex: QWEN_PATTERN },
    behavior: 'Isolated',
    invert: false,
    ...extra,
  })

  it('normalizers other than NFC', () => {
    refuse(
      base,
      (j) => (j.normalizer = { type: 'Lowercase' }),
      /normalizer: Lowercase is not supported/,
    )
    refuse(
      base,
      (j) =>
        (j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'NFKC' }] }),
      /normalizer: NFKC is not supported/,
    )
    refuse(base, (j) => (j.normalizer = { type: 'Sequence' }), /normalizer: a Sequence without/)
    // A Sequence of NFC is NFC.
    const nfc = JSON.parse(JSON.stringify(base)) as Json
    nfc.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFC' }] }
    expect(fromJSON(nfc).decode(fromJSON(nfc).encode('e\u0301'))).toBe('é')
  })

  it('pre-tokenizers that would cut text differently', () => {
    const bl = byteLevel(false, false, false)
    refuse(base, (j) => (j.pre_tokenizer = { type: 'Metaspace' }), /pre_tokenizer: .*Metaspace/)
    refuse(
      base,
      (j) => (j.pre_tokenizer = sequence({ type: 'Whitespace' }, bl)),
      /pre_tokenizer: Whitespace is not supported/,
    )
    refuse(
      base,
      (j) => (j.pre_tokenizer = sequence(split({ behavior: 'Removed' }), bl)),
      /Split with behavior Removed is not supported/,
    )
    refuse(
      base,
      (j) => (j.pre_tokenizer = sequence(split({ invert: true }), bl)),
      /Split with invert true/,
    )
    refuse(
      base,
      (j) => (j.pre_tokenizer = sequence(split({}), byteLevel(true, false, false))),
      /add_prefix_space true is not supported/,
    )
    refuse(
      base,
      (j) => (j.pre_tokenizer = sequence(bl, { type: 'Digits', individual_digits: true })),
      /ByteLevel must be the last step/,
    )
    refuse(
      base,
      (j) => (j.pre_tokenizer = sequence(split({}), { type: 'Digits' })),
      /Sequence ending in ByteLevel/,
    )
    refuse(base, (j) => (j.pre_tokenizer = sequence(bl)), /the whole text would be one piece/)
    refuse(base, (j) => (j.pre_tokenizer = null), /pre_tokenizer: expected ByteLevel/)
  })

  it('added tokens and models it cannot run', () => {
    const tokens = (j: Json) => j.added_tokens as ReturnType<typeof addedToken>[]
    refuse(base, (j) => (tokens(j)[15].rstrip = true), /single_word\/lstrip\/rstrip/)
    refuse(
      base,
      (j) => tokens(j).push({ ...tokens(j)[0], special: false }),
      /listed twice with different flags/,
    )
    refuse(base, (j) => ((j.model as Json).dropout = 0.1), /model\.dropout/)
    refuse(base, (j) => ((j.model as Json).end_of_word_suffix = '</w>'), /end_of_word_suffix/)
    refuse(
      base,
      (j) => {
        const id = Object.keys((j.model as TrainedModel).vocab).length + tokens(j).length
        tokens(j).push(addedToken(id, 'e\u0301', false, true))
      },
      /marked normalized but is not in NFC form/,
    )
    refuse(
      charJson,
      (j) => (tokens(j)[0].special = false),
      /not special \(supported for byte-level BPE only\)/,
    )
    refuse(
      charJson,
      (j) => (j.normalizer = { type: 'NFC' }),
      /normalizer: not supported for a character/,
    )
  })
})
