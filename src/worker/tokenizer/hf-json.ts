/**
 * Hugging Face tokenizer.json (format version "1.0", as written by `tokenizers` ≥ 0.10 and read
 * by `tokenizers`, `transformers` and transformers.js). Two shapes are written and read:
 *
 * Byte-level BPE (GPT-2 / Llama 3 style):
 *   pre_tokenizer Sequence[Split(Regex, Isolated), ByteLevel(use_regex: false)], decoder ByteLevel,
 *   model BPE over the 256 byte characters (see bytes.ts), merges as "left right" strings.
 *   Files with a plain ByteLevel(use_regex: true) pre-tokenizer (GPT-2's own) are read too.
 *
 * Character tokenizer: model BPE without merges, each character its own token (BPE splits a word
 * into characters and has nothing to merge), no pre-tokenizer, decoder Fuse; with byte fallback
 * the 256 tokens <0x00>..<0xFF> spell unseen characters as UTF-8 bytes (SentencePiece and Llama 2
 * do the same) and the decoder is Sequence[ByteFallback, Fuse]. Without it, unseen characters
 * become the unknown token.
 *
 * Special tokens are in `added_tokens` (special: true, matched on raw text) and also in
 * `model.vocab`: Hugging Face ignores the ids written in added_tokens and takes a token's id from
 * the model vocabulary, or else appends it after the model's last id.
 */
import { z } from 'zod'
import { UserError } from '../../shared/errors'
import { BYTE_TO_CHAR, charToByte } from './bytes'
import { PRETOKENIZER_PATTERNS, toJsPattern } from './pretokenize'
import type { SpecialToken } from './specials'

export interface HfAddedToken {
  id: number
  content: string
  single_word: boolean
  lstrip: boolean
  rstrip: boolean
  normalized: boolean
  special: boolean
}

export interface HfBpeModel {
  type: 'BPE'
  dropout: null
  unk_token: string | null
  continuing_subword_prefix: null
  end_of_word_suffix: null
  fuse_unk: boolean
  byte_fallback: boolean
  ignore_merges: boolean
  vocab: Record<string, number>
  merges: string[] | [string, string][]
}

export interface HfTokenizerJson {
  version: '1.0'
  truncation: unknown
  padding: unknown
  added_tokens: HfAddedToken[]
  normalizer: null
  pre_tokenizer: unknown
  post_processor: unknown
  decoder: unknown
  model: HfBpeModel
}

/** Parts of a tokenizer.json that do not change ids and are written back as they were read. */
export interface HfPassthrough {
  truncation: unknown
  padding: unknown
  post_processor: unknown
}

export const DEFAULT_PASSTHROUGH: HfPassthrough = {
  truncation: null,
  padding: null,
  post_processor: null,
}

const byteLevel = (useRegex: boolean) => ({
  type: 'ByteLevel',
  add_prefix_space: false,
  trim_offsets: true,
  use_regex: useRegex,
})

/** How the byte-level pre-tokenizer is written: our Split form, or GPT-2's own ByteLevel regex. */
export type BytePretokenizer = { split: string } | 'gpt2-bytelevel'

export interface BpeParts {
  /** Token strings by id: byte-level characters for ordinary tokens, the literal text of specials. */
  tokens: readonly string[]
  /** Merges in rank order, as pairs of ids. */
  merges: readonly (readonly [number, number])[]
  specials: readonly SpecialToken[]
  pretokenizer: BytePretokenizer
  /** A piece that is itself a token is taken whole, before any merge (Llama 3 sets this). */
  ignoreMerges: boolean
  passthrough: HfPassthrough
}

export interface CharParts {
  /** Token strings by id: specials, `<0xAB>` byte tokens, single characters. */
  tokens: readonly string[]
  specials: readonly SpecialToken[]
  byteFallback: boolean
  unkToken: string | null
  passthrough: HfPassthrough
}

export type ParsedTokenizer = ({ kind: 'bpe' } & BpeParts) | ({ kind: 'char' } & CharParts)

/** The JavaScript regex source a byte-level pre-tokenizer splits with. */
export function pretokenizerPattern(p: BytePretokenizer): string {
  return p === 'gpt2-bytelevel' ? PRETOKENIZER_PATTERNS.gpt2 : p.split
}

function vocabObject(tokens: readonly string[]): Record<string, number> {
  // No prototype: a token may be spelled "__proto__".
  const vocab = Object.create(null) as Record<string, number>
  tokens.forEach((t, id) => (vocab[t] = id))
  return vocab
}

function addedTokens(specials: readonly SpecialToken[]): HfAddedToken[] {
  return [...specials]
    .sort((a, b) => a.id - b.id)
    .map((s) => ({
      id: s.id,
      content: s.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }))
}

export function bpeToJson(parts: BpeParts): HfTokenizerJson {
  const { tokens, pretokenizer } = parts
  return {
    version: '1.0',
    truncation: parts.passthrough.truncation,
    padding: parts.passthrough.padding,
    added_tokens: addedTokens(parts.specials),
    normalizer: null,
    pre_tokenizer:
      pretokenizer === 'gpt2-bytelevel'
        ? byteLevel(true)
        : {
            type: 'Sequence',
            pretokenizers: [
              {
                type: 'Split',
                pattern: { Regex: pretokenizer.split },
                behavior: 'Isolated',
                invert: false,
              },
              byteLevel(false),
            ],
          },
    post_processor: parts.passthrough.post_processor,
    decoder: byteLevel(pretokenizer === 'gpt2-bytelevel'),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: parts.ignoreMerges,
      vocab: vocabObject(tokens),
      // The legacy "a b" form is read by every version; byte-level tokens never contain a space.
      merges: parts.merges.map(([a, b]) => `${tokens[a]} ${tokens[b]}`),
    },
  }
}

export function charToJson(parts: CharParts): HfTokenizerJson {
  return {
    version: '1.0',
    truncation: parts.passthrough.truncation,
    padding: parts.passthrough.padding,
    added_tokens: addedTokens(parts.specials),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: parts.passthrough.post_processor,
    decoder: parts.byteFallback
      ? { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] }
      : { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: parts.unkToken,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: parts.byteFallback,
      ignore_merges: false,
      vocab: vocabObject(parts.tokens),
      merges: [],
    },
  }
}

/**
 * tokenizer.json text in Hugging Face's own layout: vocab in id order (JSON.stringify would put
 * integer-like keys such as "0" first), so stored and exported files diff cleanly.
 */
export function serializeJson(json: HfTokenizerJson): string {
  const { vocab, merges, ...modelRest } = json.model
  const entries = Object.entries(vocab).sort((a, b) => a[1] - b[1])
  const vocabText = entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')
  const modelHead = JSON.stringify(modelRest).slice(0, -1)
  const { model: _model, ...rest } = json
  const head = JSON.stringify(rest).slice(0, -1)
  return `${head},"model":${modelHead},"vocab":{${vocabText}},"merges":${JSON.stringify(merges)}}}`
}

// ---------------------------------------------------------------------------------------------
// Reading

const addedTokenSchema = z.object({
  id: z.int().min(0),
  content: z.string().min(1),
  single_word: z.boolean().default(false),
  lstrip: z.boolean().default(false),
  rstrip: z.boolean().default(false),
  normalized: z.boolean().default(false),
  special: z.boolean(),
})

function isVocab(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  return Object.values(value).every((id) => Number.isInteger(id) && (id as number) >= 0)
}

const modelSchema = z.object({
  type: z.literal('BPE'),
  dropout: z.null().optional(),
  unk_token: z.string().nullable().default(null),
  continuing_subword_prefix: z.union([z.null(), z.literal('')]).optional(),
  end_of_word_suffix: z.union([z.null(), z.literal('')]).optional(),
  fuse_unk: z.boolean().default(false),
  byte_fallback: z.boolean().default(false),
  ignore_merges: z.boolean().default(false),
  // Checked by hand and passed through as is: zod's record copy would turn a "__proto__" key into a prototype.
  vocab: z.custom<Record<string, number>>(isVocab, 'expected an object of token ids'),
  merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
})

const fileSchema = z.object({
  version: z.literal('1.0'),
  truncation: z.unknown().default(null),
  padding: z.unknown().default(null),
  added_tokens: z.array(addedTokenSchema).default([]),
  normalizer: z.null().default(null),
  pre_tokenizer: z.unknown().default(null),
  post_processor: z.unknown().default(null),
  decoder: z.unknown().default(null),
  model: modelSchema,
})

const byteLevelSchema = z.object({
  type: z.literal('ByteLevel'),
  add_prefix_space: z.literal(false),
  use_regex: z.boolean().default(true),
})
const splitSchema = z.object({
  type: z.literal('Split'),
  pattern: z.union([z.object({ Regex: z.string() }), z.object({ String: z.string() })]),
  behavior: z.literal('Isolated'),
  invert: z.literal(false),
})
const byteLevelPretokenizerSchema = z.union([
  byteLevelSchema,
  z.object({
    type: z.literal('Sequence'),
    pretokenizers: z.tuple([splitSchema, byteLevelSchema.extend({ use_regex: z.literal(false) })]),
  }),
])
const charDecoderSchema = z.union([
  z.object({ type: z.literal('Fuse') }),
  z.object({
    type: z.literal('Sequence'),
    decoders: z.tuple([
      z.object({ type: z.literal('ByteFallback') }),
      z.object({ type: z.literal('Fuse') }),
    ]),
  }),
])

function invalid(message: string): UserError {
  return new UserError(
    'invalid_params',
    `This tokenizer.json cannot be used: ${message}`,
    'tokenizer',
  )
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  const path = issue.path.join('.')
  return `${path === '' ? 'the file' : path}: ${issue.message}.`
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** Reads a tokenizer.json (text or parsed) that Frugal can run with exactly Hugging Face's ids. */
export function parseJson(input: string | object): ParsedTokenizer {
  let raw: unknown = input
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input)
    } catch (err) {
      throw invalid(`it is not JSON (${(err as Error).message}).`)
    }
  }
  const parsed = fileSchema.safeParse(raw)
  if (!parsed.success) throw invalid(describeIssue(parsed.error))
  const file = parsed.data
  const { model } = file

  // Model ids must be exactly 0..n-1 for the embedding table.
  const modelSize = Object.keys(model.vocab).length
  const tokens: string[] = new Array<string>(modelSize)
  for (const [token, id] of Object.entries(model.vocab)) {
    if (id >= modelSize || tokens[id] !== undefined)
      throw invalid(`model.vocab ids are not 0..${modelSize - 1} without gaps (id ${id}).`)
    tokens[id] = token
  }
  const ids = new Map(tokens.map((t, id) => [t, id]))

  // Added tokens get ids the way Hugging Face assigns them, which must match what the file says.
  const specials: SpecialToken[] = []
  for (const added of file.added_tokens) {
    if (!added.special)
      throw invalid(`the added token ${added.content} is not special (not supported).`)
    if (added.single_word || added.lstrip || added.rstrip)
      throw invalid(
        `the added token ${added.content} uses single_word/lstrip/rstrip (not supported).`,
      )
    if (specials.some((s) => s.content === added.content)) continue
    let id = ids.get(added.content)
    if (id === undefined) {
      id = tokens.length
      tokens.push(added.content)
      ids.set(added.content, id)
    }
    if (id !== added.id)
      throw invalid(`the added token ${added.content} has id ${added.id} but would get id ${id}.`)
    specials.push({ id, content: added.content })
  }
  const passthrough: HfPassthrough = {
    truncation: file.truncation,
    padding: file.padding,
    post_processor: file.post_processor,
  }
  const specialIds = new Set(specials.map((s) => s.id))

  if (model.unk_token !== null && !ids.has(model.unk_token))
    throw invalid(`the unknown token ${model.unk_token} is not in the vocabulary.`)
  if (model.continuing_subword_prefix || model.end_of_word_suffix)
    throw invalid('subword prefixes and suffixes are not supported.')

  const decoderType = (file.decoder as { type?: unknown } | null)?.type
  if (decoderType === 'ByteLevel') {
    const pre = byteLevelPretokenizerSchema.safeParse(file.pre_tokenizer)
    if (!pre.success)
      throw invalid(`pre_tokenizer: expected ByteLevel or Sequence[Split, ByteLevel].`)
    let pretokenizer: BytePretokenizer
    if (pre.data.type === 'ByteLevel') {
      if (!pre.data.use_regex) throw invalid('pre_tokenizer: a ByteLevel without a regex.')
      pretokenizer = 'gpt2-bytelevel'
    } else {
      const { pattern } = pre.data.pretokenizers[0]
      const source = 'Regex' in pattern ? pattern.Regex : escapeRegExp(pattern.String)
      try {
        new RegExp(toJsPattern(source), 'u')
      } catch {
        throw invalid(`the split pattern ${source} is not a JavaScript regular expression.`)
      }
      pretokenizer = { split: source }
    }
    if (model.byte_fallback) throw invalid('byte_fallback with a ByteLevel decoder.')
    const seenBytes = new Set<number>()
    tokens.forEach((t, id) => {
      if (specialIds.has(id)) return
      for (let i = 0; i < t.length; i++)
        if (charToByte(t.charCodeAt(i)) < 0)
          throw invalid(`the token ${JSON.stringify(t)} is not written in byte-level characters.`)
      if (t.length === 1) seenBytes.add(charToByte(t.charCodeAt(0)))
    })
    if (seenBytes.size !== 256) {
      const missing = BYTE_TO_CHAR.findIndex((c) => !ids.has(c))
      throw invalid(`the byte ${missing} has no token, so some text could not be encoded.`)
    }
    const merges = model.merges.map((m): [number, number] => {
      const pair = typeof m === 'string' ? m.split(' ') : m
      const a = ids.get(pair[0] ?? '')
      const b = ids.get(pair[1] ?? '')
      if (pair.length !== 2 || a === undefined || b === undefined || !ids.has(pair[0] + pair[1]))
        throw invalid(`the merge ${JSON.stringify(m)} refers to tokens not in the vocabulary.`)
      return [a, b]
    })
    return {
      kind: 'bpe',
      tokens,
      merges,
      specials,
      pretokenizer,
      ignoreMerges: model.ignore_merges,
      passthrough,
    }
  }

  const decoder = charDecoderSchema.safeParse(file.decoder)
  if (!decoder.success)
    throw invalid(
      `decoder ${JSON.stringify(decoderType ?? null)}: Frugal reads byte-level BPE (decoder ByteLevel) and character tokenizers (decoder Fuse).`,
    )
  const byteFallback = decoder.data.type === 'Sequence'
  if (byteFallback !== model.byte_fallback)
    throw invalid('the decoder and model.byte_fallback disagree.')
  if (file.pre_tokenizer !== null) throw invalid('a character tokenizer has no pre_tokenizer.')
  if (model.merges.length > 0 || model.ignore_merges)
    throw invalid('a character tokenizer has no merges.')
  let byteTokens = 0
  tokens.forEach((t, id) => {
    if (specialIds.has(id)) return
    if (byteFallback && /^<0x[0-9A-F]{2}>$/.test(t)) byteTokens++
    else if ([...t].length !== 1)
      throw invalid(`the token ${JSON.stringify(t)} is not a single character.`)
  })
  if (byteFallback && byteTokens !== 256) throw invalid('byte fallback needs all 256 byte tokens.')
  if (model.unk_token !== null && !specialIds.has(ids.get(model.unk_token)!))
    throw invalid(`the unknown token ${model.unk_token} must be a special token.`)
  return {
    kind: 'char',
    tokens,
    specials,
    byteFallback,
    unkToken: model.unk_token,
    passthrough,
  }
}
