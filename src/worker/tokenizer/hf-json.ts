/**
 * Hugging Face tokenizer.json (format version "1.0", as written by `tokenizers` ≥ 0.10 and read
 * by `tokenizers`, `transformers` and transformers.js). Two shapes are written and read:
 *
 * Byte-level BPE (GPT-2 / Llama 3 / Qwen / SmolLM style):
 *   pre_tokenizer Sequence[Split(Regex, Isolated), ByteLevel(use_regex: false)], decoder ByteLevel,
 *   model BPE over the 256 byte characters (see bytes.ts), merges as "left right" strings.
 *   Read too: a plain ByteLevel(use_regex: true) pre-tokenizer (GPT-2's own), any Sequence of
 *   Split(Isolated) and Digits steps ending in a ByteLevel (SmolLM's Digits then ByteLevel), the
 *   NFC normalizer (Qwen), and added tokens that are not special (Qwen's <tool_call>).
 *
 * Character tokenizer: model BPE without merges, each character its own token (BPE splits a word
 * into characters and has nothing to merge), no pre-tokenizer, decoder Fuse; with byte fallback
 * the 256 tokens <0x00>..<0xFF> spell unseen characters as UTF-8 bytes (SentencePiece and Llama 2
 * do the same) and the decoder is Sequence[ByteFallback, Fuse]. Without it, unseen characters
 * become the unknown token.
 *
 * Added tokens are in `added_tokens`. Hugging Face ignores the ids written there and takes a
 * token's id from the model vocabulary, or else appends it after the model's last id; we write our
 * own special tokens into `model.vocab` too, and a file's added tokens back where it had them.
 *
 * What does not change ids (truncation, padding, post-processor, the exact form of the
 * normalizer, pre-tokenizer and decoder, model options such as an unused unk_token) is kept as
 * read and written back, so Hugging Face reads an imported file the same after we save it.
 */
import { z } from 'zod'
import { UserError } from '../../shared/errors'
import { BYTE_TO_CHAR, charToByte } from './bytes'
import { DIGITS_PATTERNS, PRETOKENIZER_PATTERNS, toJsPattern } from './pretokenize'
import type { AddedToken, SpecialToken } from './specials'

export interface HfAddedToken {
  id: number
  content: string
  single_word: boolean
  lstrip: boolean
  rstrip: boolean
  normalized: boolean
  special: boolean
}

/**
 * BPE model options that cannot change a byte-level BPE's ids: every byte has a token, so the
 * unknown token is never used (nor fused), and an empty prefix or suffix adds nothing.
 */
export interface HfBpeOptions {
  unk_token: string | null
  continuing_subword_prefix: '' | null
  end_of_word_suffix: '' | null
  fuse_unk: boolean
}

export interface HfBpeModel extends HfBpeOptions {
  type: 'BPE'
  dropout: null
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
  normalizer: unknown
  pre_tokenizer: unknown
  post_processor: unknown
  decoder: unknown
  model: HfBpeModel
}

/**
 * Parts of a tokenizer.json that do not change ids, or whose exact form does not (a ByteLevel's
 * trim_offsets), written back as they were read. The optional ones are absent for tokenizers
 * trained here, which get our own form.
 */
export interface HfPassthrough {
  truncation: unknown
  padding: unknown
  post_processor: unknown
  normalizer?: unknown
  pre_tokenizer?: unknown
  decoder?: unknown
  bpe_options?: HfBpeOptions
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

/** The normalizers Frugal runs: none, or Unicode NFC (Qwen's). */
export type Normalizer = 'NFC' | null

export interface BpeParts {
  /** Token strings by id: byte-level characters for model tokens, the literal text of added tokens. */
  tokens: readonly string[]
  /**
   * How many of `tokens` are in `model.vocab`; the rest are added tokens that Hugging Face
   * appends after the model's ids (Llama 3 and Qwen keep their special tokens there).
   */
  modelSize: number
  /** Merges in rank order, as pairs of ids. */
  merges: readonly (readonly [number, number])[]
  specials: readonly SpecialToken[]
  /** Added tokens that are not special: always matched in text, and never skipped in decoding. */
  added: readonly AddedToken[]
  normalizer: Normalizer
  /**
   * Pre-tokenization as split patterns (as tokenizer.json writes them; run through
   * `toJsPattern`), each applied within the pieces of the one before: a Split's regex, a Digits
   * step, ByteLevel's own GPT-2 regex. Pieces are what BPE merges within.
   */
  splits: readonly string[]
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

function vocabObject(tokens: readonly string[]): Record<string, number> {
  // No prototype: a token may be spelled "__proto__".
  const vocab = Object.create(null) as Record<string, number>
  tokens.forEach((t, id) => (vocab[t] = id))
  return vocab
}

function addedTokens(
  specials: readonly SpecialToken[],
  added: readonly AddedToken[] = [],
): HfAddedToken[] {
  const entry = (t: AddedToken, special: boolean): HfAddedToken => ({
    id: t.id,
    content: t.content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: t.normalized ?? false,
    special,
  })
  // In id order, as Hugging Face writes them: appended tokens then get the same ids when read.
  return [...specials.map((t) => entry(t, true)), ...added.map((t) => entry(t, false))].sort(
    (a, b) => a.id - b.id,
  )
}

const NO_BPE_OPTIONS: HfBpeOptions = {
  unk_token: null,
  continuing_subword_prefix: null,
  end_of_word_suffix: null,
  fuse_unk: false,
}

/** Our own pre-tokenizer form: each split pattern as a Split, then ByteLevel without its regex. */
function splitSequence(splits: readonly string[]) {
  return {
    type: 'Sequence',
    pretokenizers: [
      ...splits.map((source) => ({
        type: 'Split',
        pattern: { Regex: source },
        behavior: 'Isolated',
        invert: false,
      })),
      byteLevel(false),
    ],
  }
}

export function bpeToJson(parts: BpeParts): HfTokenizerJson {
  const { tokens, passthrough } = parts
  return {
    version: '1.0',
    truncation: passthrough.truncation,
    padding: passthrough.padding,
    added_tokens: addedTokens(parts.specials, parts.added),
    normalizer:
      passthrough.normalizer !== undefined
        ? passthrough.normalizer
        : parts.normalizer === 'NFC'
          ? { type: 'NFC' }
          : null,
    pre_tokenizer: passthrough.pre_tokenizer ?? splitSequence(parts.splits),
    post_processor: passthrough.post_processor,
    decoder: passthrough.decoder ?? byteLevel(false),
    model: {
      type: 'BPE',
      dropout: null,
      ...(passthrough.bpe_options ?? NO_BPE_OPTIONS),
      byte_fallback: false,
      ignore_merges: parts.ignoreMerges,
      vocab: vocabObject(tokens.slice(0, parts.modelSize)),
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
  continuing_subword_prefix: z.union([z.null(), z.literal('')]).default(null),
  end_of_word_suffix: z.union([z.null(), z.literal('')]).default(null),
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
  normalizer: z.unknown().default(null),
  pre_tokenizer: z.unknown().default(null),
  post_processor: z.unknown().default(null),
  decoder: z.unknown().default(null),
  model: modelSchema,
})

const byteLevelSchema = z.object({
  type: z.literal('ByteLevel'),
  add_prefix_space: z.boolean(),
  use_regex: z.boolean().default(true),
})
const splitSchema = z.object({
  type: z.literal('Split'),
  pattern: z.union([z.object({ Regex: z.string() }), z.object({ String: z.string() })]),
  behavior: z.string(),
  invert: z.boolean().default(false),
})
const digitsSchema = z.object({
  type: z.literal('Digits'),
  individual_digits: z.boolean().default(false),
})
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

function describeIssue(error: z.ZodError, prefix = ''): string {
  const issue = error.issues[0]
  const path = [prefix, ...issue.path].filter((p) => p !== '').join('.')
  return `${path === '' ? 'the file' : path}: ${issue.message}.`
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** A component's `type` (NFC, ByteLevel, …), for choosing how to read it and for messages. */
function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'none'
  const type = (value as { type?: unknown }).type
  return typeof type === 'string' ? type : 'a component without a type'
}

/** Items of a Sequence component (`normalizers`, `pretokenizers`). */
function sequenceItems(value: unknown, field: string, key: string): unknown[] {
  const items = (value as Record<string, unknown>)[key]
  if (!Array.isArray(items)) throw invalid(`${field}: a Sequence without a ${key} list.`)
  return items
}

/**
 * NFC is the one normalizer of today's small open models (Qwen 2, 2.5 and 3); a Sequence of NFC
 * is the same. Anything else would change the text before the merges in ways not run here.
 */
function parseNormalizer(value: unknown): Normalizer {
  const type = typeOf(value)
  if (type === 'none') return null
  if (type === 'NFC') return 'NFC'
  if (type === 'Sequence') {
    const inner = sequenceItems(value, 'normalizer', 'normalizers').map(parseNormalizer)
    return inner.includes('NFC') ? 'NFC' : null
  }
  throw invalid(`normalizer: ${type} is not supported (Frugal applies only NFC).`)
}

function parseStep<T extends z.ZodType>(schema: T, step: unknown): z.infer<T> {
  const parsed = schema.safeParse(step)
  if (!parsed.success) throw invalid(describeIssue(parsed.error, 'pre_tokenizer'))
  return parsed.data
}

function splitPattern(step: z.infer<typeof splitSchema>): string {
  if (step.behavior !== 'Isolated')
    throw invalid(
      `pre_tokenizer: Split with behavior ${step.behavior} is not supported (only Isolated, where every match and every stretch between matches is a piece).`,
    )
  if (step.invert) throw invalid('pre_tokenizer: Split with invert true is not supported.')
  const { pattern } = step
  const source = 'Regex' in pattern ? pattern.Regex : escapeRegExp(pattern.String)
  try {
    new RegExp(toJsPattern(source), 'u')
  } catch {
    throw invalid(`the split pattern ${source} is not a JavaScript regular expression.`)
  }
  return source
}

/**
 * The split patterns of a byte-level pre-tokenizer: a ByteLevel with its regex (GPT-2), or a
 * Sequence of Split (Isolated) and Digits steps ending in a ByteLevel, each step splitting the
 * pieces of the one before. The ByteLevel must come last: a step after it would see byte
 * characters, not text.
 */
function parsePretokenizer(value: unknown): string[] {
  const steps =
    typeOf(value) === 'Sequence' ? sequenceItems(value, 'pre_tokenizer', 'pretokenizers') : [value]
  const splits: string[] = []
  steps.forEach((step, i) => {
    const type = typeOf(step)
    if (i === steps.length - 1) {
      if (type !== 'ByteLevel')
        throw invalid(
          `pre_tokenizer: expected ByteLevel, or a Sequence ending in ByteLevel, for a byte-level BPE (found ${type}).`,
        )
      const { add_prefix_space, use_regex } = parseStep(byteLevelSchema, step)
      if (add_prefix_space)
        throw invalid(
          'pre_tokenizer: ByteLevel with add_prefix_space true is not supported (it puts a space before each piece, which changes ids).',
        )
      if (use_regex) splits.push(PRETOKENIZER_PATTERNS.gpt2)
    } else if (type === 'ByteLevel')
      throw invalid(
        'pre_tokenizer: ByteLevel must be the last step (a step after it would see byte characters, not text).',
      )
    else if (type === 'Split') splits.push(splitPattern(parseStep(splitSchema, step)))
    else if (type === 'Digits')
      splits.push(
        parseStep(digitsSchema, step).individual_digits
          ? DIGITS_PATTERNS.individual
          : DIGITS_PATTERNS.runs,
      )
    else
      throw invalid(
        `pre_tokenizer: ${type} is not supported (Frugal runs Split, Digits and ByteLevel).`,
      )
  })
  if (splits.length === 0)
    throw invalid(
      'pre_tokenizer: a ByteLevel without a regex and no Split before it (the whole text would be one piece) is not supported.',
    )
  return splits
}

interface AddedTokens {
  specials: SpecialToken[]
  added: AddedToken[]
}

/**
 * Gives added tokens their ids the way Hugging Face does (the model's id, or the next id after
 * the model's), appending new ones to `tokens`; the ids written in the file must agree.
 */
function readAddedTokens(
  list: readonly z.infer<typeof addedTokenSchema>[],
  tokens: string[],
  ids: Map<string, number>,
): AddedTokens {
  const result: AddedTokens = { specials: [], added: [] }
  const seen = new Map<string, z.infer<typeof addedTokenSchema>>()
  for (const token of list) {
    const { content } = token
    if (token.single_word || token.lstrip || token.rstrip)
      throw invalid(`the added token ${content} uses single_word/lstrip/rstrip (not supported).`)
    const before = seen.get(content)
    if (before !== undefined) {
      if (before.special !== token.special || before.normalized !== token.normalized)
        throw invalid(`the added token ${content} is listed twice with different flags.`)
      continue
    }
    seen.set(content, token)
    let id = ids.get(content)
    if (id === undefined) {
      id = tokens.length
      tokens.push(content)
      ids.set(content, id)
    }
    if (id !== token.id)
      throw invalid(`the added token ${content} has id ${token.id} but would get id ${id}.`)
    // `normalized` only where set, so tokens compare equal to plain { id, content }.
    const entry: AddedToken = token.normalized ? { id, content, normalized: true } : { id, content }
    ;(token.special ? result.specials : result.added).push(entry)
  }
  return result
}

type FileData = z.infer<typeof fileSchema>

function readBpe(
  file: FileData,
  tokens: string[],
  ids: Map<string, number>,
  modelSize: number,
  addedTokens: AddedTokens,
): BpeParts {
  const { model } = file
  const normalizer = parseNormalizer(file.normalizer)
  const splits = parsePretokenizer(file.pre_tokenizer)
  // Hugging Face matches such a token as its normalized form, and recent versions also decode it
  // so: not the text the file gives it. Already-NFC tokens (all known files) are the same either way.
  const unnormalized = [...addedTokens.specials, ...addedTokens.added].find(
    (t) =>
      normalizer === 'NFC' && t.normalized === true && t.content !== t.content.normalize('NFC'),
  )
  if (unnormalized !== undefined)
    throw invalid(
      `the added token ${unnormalized.content} is marked normalized but is not in NFC form (not supported).`,
    )
  if (model.byte_fallback) throw invalid('byte_fallback with a ByteLevel decoder.')
  // Added tokens are literal text (<|im_start|>); model tokens must be byte-level strings.
  const addedIds = new Set([...addedTokens.specials, ...addedTokens.added].map((t) => t.id))
  const seenBytes = new Set<number>()
  tokens.forEach((t, id) => {
    if (addedIds.has(id)) return
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
    tokens,
    modelSize,
    merges,
    ...addedTokens,
    normalizer,
    splits,
    ignoreMerges: model.ignore_merges,
    passthrough: {
      truncation: file.truncation,
      padding: file.padding,
      post_processor: file.post_processor,
      normalizer: file.normalizer,
      pre_tokenizer: file.pre_tokenizer,
      decoder: file.decoder,
      bpe_options: {
        unk_token: model.unk_token,
        continuing_subword_prefix: model.continuing_subword_prefix,
        end_of_word_suffix: model.end_of_word_suffix,
        fuse_unk: model.fuse_unk,
      },
    },
  }
}

function readChar(file: FileData, tokens: string[], addedTokens: AddedTokens): CharParts {
  const { model } = file
  const decoder = charDecoderSchema.safeParse(file.decoder)
  if (!decoder.success)
    throw invalid(
      `decoder ${JSON.stringify(typeOf(file.decoder))}: Frugal reads byte-level BPE (decoder ByteLevel) and character tokenizers (decoder Fuse).`,
    )
  if (parseNormalizer(file.normalizer) !== null)
    throw invalid('normalizer: not supported for a character tokenizer.')
  const [plain] = addedTokens.added
  if (plain !== undefined)
    throw invalid(
      `the added token ${plain.content} is not special (supported for byte-level BPE only).`,
    )
  const { specials } = addedTokens
  const specialIds = new Set(specials.map((s) => s.id))
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
  if (model.unk_token !== null && !specialIds.has(tokens.indexOf(model.unk_token)))
    throw invalid(`the unknown token ${model.unk_token} must be a special token.`)
  return {
    tokens,
    specials,
    byteFallback,
    unkToken: model.unk_token,
    passthrough: {
      truncation: file.truncation,
      padding: file.padding,
      post_processor: file.post_processor,
    },
  }
}

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
  const addedTokens = readAddedTokens(file.added_tokens, tokens, ids)

  if (model.unk_token !== null && !ids.has(model.unk_token))
    throw invalid(`the unknown token ${model.unk_token} is not in the vocabulary.`)

  return typeOf(file.decoder) === 'ByteLevel'
    ? { kind: 'bpe', ...readBpe(file, tokens, ids, modelSize, addedTokens) }
    : { kind: 'char', ...readChar(file, tokens, addedTokens) }
}
