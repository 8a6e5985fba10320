import { beforeAll, describe, expect, it } from 'vitest'
import { UserError } from '../../../src/shared/errors'
import {
  fromJSON,
  PRETOKENIZER_PATTERNS,
  trainBpe,
  type BpeTokenizer,
  type HfTokenizerJson,
} from '../../../src/worker/tokenizer'
import { multilingualDocs } from './corpus'

/** A deep copy to edit. */
const clone = (json: HfTokenizerJson) => JSON.parse(JSON.stringify(json)) as HfTokenizerJson

describe('tokenizer.json', () => {
  let tok: BpeTokenizer
  let json: HfTokenizerJson
  const docs = multilingualDocs(31, 20_000, 300)

  beforeAll(async () => {
    tok = (await trainBpe(docs, { vocabSize: 600 })).tokenizer
    json = tok.toJSON()
  })

  it('has the fields Hugging Face writes for a byte-level BPE', () => {
    expect(Object.keys(json)).toEqual([
      'version',
      'truncation',
      'padding',
      'added_tokens',
      'normalizer',
      'pre_tokenizer',
      'post_processor',
      'decoder',
      'model',
    ])
    expect(json.version).toBe('1.0')
    expect(json.added_tokens[1]).toEqual({
      id: 1,
      content: '<|eos|>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })
    expect(json.normalizer).toBeNull()
    expect(json.pre_tokenizer).toEqual({
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: PRETOKENIZER_PATTERNS.llama3 },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    })
    expect(json.decoder).toMatchObject({ type: 'ByteLevel' })
    const { vocab, merges, ...model } = json.model
    expect(model).toEqual({
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
    })
    expect(Object.keys(vocab)).toHaveLength(600)
    expect(vocab['<|bos|>']).toBe(0)
    expect(vocab['!']).toBe(3)
    expect(merges).toHaveLength(600 - 259)
    for (const m of merges as string[]) {
      const [a, b] = m.split(' ')
      expect(vocab[a + b]).toBeGreaterThanOrEqual(259)
    }
  })

  it('serializes with the vocabulary in id order, and reads back to the same text', () => {
    const text = tok.serialize()
    expect(text).toMatch(/"vocab":\{"<\|bos\|>":0,"<\|eos\|>":1,"<\|pad\|>":2,"!":3,/)
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(tok)))
    expect(fromJSON(text).serialize()).toBe(text)
    expect(fromJSON(JSON.parse(text) as object).serialize()).toBe(text)
  })

  it('reads merges written as pairs (tokenizers ≥ 0.20) as well as strings', () => {
    const pairs = clone(json)
    pairs.model.merges = (json.model.merges as string[]).map(
      (m) => m.split(' ') as [string, string],
    )
    const sample = docs.slice(0, 5).join('')
    expect(fromJSON(pairs).encode(sample)).toEqual(tok.encode(sample))
  })

  it('keeps passthrough parts (post-processor, truncation) and ignores them when encoding', () => {
    const edited = clone(json)
    edited.post_processor = {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '<|bos|>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
      ],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|bos|>': { id: '<|bos|>', ids: [0], tokens: ['<|bos|>'] } },
    }
    const again = fromJSON(edited)
    expect(again.toJSON().post_processor).toEqual(edited.post_processor)
    expect(again.encode('hello')).toEqual(tok.encode('hello'))
  })

  it('stores a token spelled "__proto__" like any other', () => {
    const edited = clone(json)
    const vocab = edited.model.vocab
    const merges = edited.model.merges as string[]
    let next = Object.keys(vocab).length
    const add = (a: string, b: string) => {
      merges.push(`${a} ${b}`)
      if (!Object.hasOwn(vocab, a + b))
        Object.defineProperty(vocab, a + b, { value: next++, enumerable: true })
    }
    add('_', '_')
    add('p', 'r')
    add('o', 't')
    add('pr', 'ot')
    add('prot', 'o')
    add('__', 'proto')
    add('__proto', '__')
    const text = JSON.stringify(edited)
    const t = fromJSON(text)
    expect(t.vocabSize).toBe(next)
    expect(t.tokenToId('__proto__')).toBe(next - 1)
    expect(t.decode([next - 1])).toBe('__proto__')
    expect(t.idToToken(next - 1)).toBe('__proto__')
    expect(JSON.parse(t.serialize())).toEqual(JSON.parse(text))
  })

  it('refuses files it cannot run with the same ids, saying why', () => {
    const refuse = (edit: (j: HfTokenizerJson) => void, message: RegExp) => {
      const bad = clone(json)
      edit(bad)
      let err: unknown
      try {
        fromJSON(bad)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(UserError)
      expect((err as UserError).message).toMatch(message)
    }
    const loose = (j: object) => j as Record<string, unknown>
    expect(() => fromJSON('{not json')).toThrow(/not JSON/)
    refuse((j) => (loose(j).version = '2.0'), /version/)
    refuse((j) => (j.normalizer = { type: 'Lowercase' }), /normalizer: Lowercase is not supported/)
    refuse((j) => (loose(j.model).type = 'WordPiece'), /model\.type/)
    refuse((j) => (loose(j.model).continuing_subword_prefix = '##'), /continuing_subword_prefix/)
    refuse((j) => delete j.model.vocab['Ġ'], /ids are not 0\.\.598|byte 32/)
    refuse((j) => (j.model.vocab['Ġ'] = 5000), /without gaps/)
    refuse((j) => (j.added_tokens[0].id = 7), /has id 7 but would get id 0/)
    refuse((j) => (j.added_tokens[0].lstrip = true), /lstrip/)
    refuse((j) => (j.decoder = { type: 'WordPiece' }), /decoder/)
    refuse((j) => (j.pre_tokenizer = { type: 'Whitespace' }), /pre_tokenizer/)
    refuse(
      (j) => (j.pre_tokenizer = { ...(j.pre_tokenizer as object), pretokenizers: [] }),
      /pre_tokenizer/,
    )
    refuse((j) => (j.model.merges as string[]).push('Ġ zz'), /merge/)
    refuse(
      (j) =>
        ((j.pre_tokenizer as { pretokenizers: { pattern: object }[] }).pretokenizers[0].pattern = {
          Regex: 'a++',
        }),
      /not a JavaScript regular expression/,
    )
  })

  it("reads GPT-2's own form: a ByteLevel pre-tokenizer with its built-in regex", () => {
    const gpt2 = clone(json)
    gpt2.pre_tokenizer = {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    }
    const split = clone(json)
    split.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: PRETOKENIZER_PATTERNS.gpt2 },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    }
    const a = fromJSON(gpt2)
    const b = fromJSON(split)
    const text = docs.join('') + "they'RE 1234567\n\n  x"
    expect(a.encode(text)).toEqual(b.encode(text))
    expect(a.encode(text)).not.toEqual(tok.encode(text))
    expect(a.toJSON().pre_tokenizer).toEqual(gpt2.pre_tokenizer)
  })
})
