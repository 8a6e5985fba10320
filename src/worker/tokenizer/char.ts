import { UserError } from '../../shared/errors'
import { utf8 } from './bytes'
import {
  charToJson,
  DEFAULT_PASSTHROUGH,
  serializeJson,
  type CharParts,
  type HfTokenizerJson,
} from './hf-json'
import { IdBuffer, wellFormed } from './id-buffer'
import { charTrainOptionsSchema, type CharTrainOptions } from './options'
import { checkSpecialTokens, SpecialMatcher, specialRoles, type SpecialToken } from './specials'
import {
  codePointCut,
  forEachChunk,
  Pacer,
  type ProgressCallback,
  type TextSource,
} from './train-common'
import { TokenBytes } from './token-bytes'
import type { DecodeOptions, EncodeOptions, Tokenizer } from './types'

const byteToken = (byte: number) => `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`
const BYTE_TOKEN = /^<0x([0-9A-F]{2})>$/

/**
 * One token per character (Unicode code point), for tiny experiments such as nanoGPT's
 * Shakespeare. Characters outside the vocabulary are spelled as UTF-8 byte tokens when byte
 * fallback is on, and become the unknown token otherwise (the only case where decoding does not
 * give the text back). Decoding follows Hugging Face's ByteFallback decoder: a run of byte
 * tokens that is not valid UTF-8 gives one U+FFFD per byte.
 */
export class CharTokenizer implements Tokenizer {
  readonly kind = 'char' as const
  readonly vocabSize: number
  readonly specialTokens: readonly SpecialToken[]
  readonly bos: number | null
  readonly eos: number | null
  readonly pad: number | null
  readonly unk: number | null
  readonly byteFallback: boolean

  private readonly parts: CharParts
  private readonly table: TokenBytes
  private readonly ids = new Map<string, number>()
  /** Ids of BMP characters by code unit, -1 where absent; others in `astral`. */
  private readonly bmp = new Int32Array(0x10000).fill(-1)
  private readonly astral = new Map<number, number>()
  /** Id of each byte token (byte fallback), and for each id its byte or -1. */
  private readonly byteIds = new Int32Array(256).fill(-1)
  private readonly byteOf: Int16Array
  private readonly specialMatcher: SpecialMatcher
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  private readonly strictDecoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true })

  constructor(parts: CharParts) {
    this.parts = parts
    const { tokens, specials } = parts
    this.vocabSize = tokens.length
    this.specialTokens = specials
    ;({ bos: this.bos, eos: this.eos, pad: this.pad } = specialRoles(specials))
    this.byteFallback = parts.byteFallback
    this.specialMatcher = new SpecialMatcher(specials)
    this.byteOf = new Int16Array(tokens.length).fill(-1)
    const specialIds = new Set(specials.map((s) => s.id))
    const bytes = tokens.map((t, id) => {
      this.ids.set(t, id)
      if (specialIds.has(id)) return utf8(t)
      const byte = parts.byteFallback ? BYTE_TOKEN.exec(t) : null
      if (byte) {
        const b = parseInt(byte[1], 16)
        this.byteIds[b] = id
        this.byteOf[id] = b
        return Uint8Array.of(b)
      }
      const cp = t.codePointAt(0)!
      if (cp < 0x10000) this.bmp[cp] = id
      else this.astral.set(cp, id)
      return utf8(t)
    })
    if (parts.byteFallback && this.byteIds.includes(-1))
      throw new Error('Byte fallback needs all 256 byte tokens.')
    this.unk = parts.unkToken === null ? null : (this.ids.get(parts.unkToken) ?? null)
    this.table = new TokenBytes(bytes, specialIds)
  }

  encode(text: string, options?: EncodeOptions): Int32Array {
    const input = wellFormed(text)
    const out = new IdBuffer(input.length + 16)
    if (options?.allowSpecial === true)
      this.specialMatcher.split(
        input,
        (t) => this.encodeOrdinary(t, out),
        (id) => out.push(id),
      )
    else this.encodeOrdinary(input, out)
    return out.result()
  }

  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    if (!this.byteFallback || !this.hasByteToken(ids))
      return this.decoder.decode(this.decodeBytes(ids, options))
    // Byte tokens decode run by run; a run that is not UTF-8 gives U+FFFD per byte. Skipped
    // special tokens are dropped before decoding, so they do not split a run (Hugging Face).
    const skip = options?.skipSpecial === true
    const { tokens } = this.parts
    let out = ''
    let run: number[] = []
    const flush = () => {
      if (run.length === 0) return
      try {
        out += this.strictDecoder.decode(Uint8Array.from(run))
      } catch {
        out += '\uFFFD'.repeat(run.length)
      }
      run = []
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]
      this.table.assertId(id)
      if (skip && this.table.isSpecial(id)) continue
      const byte = this.byteOf[id]
      if (byte >= 0) run.push(byte)
      else {
        flush()
        out += tokens[id]
      }
    }
    flush()
    return out
  }

  private hasByteToken(ids: ArrayLike<number>): boolean {
    for (let i = 0; i < ids.length; i++) if (this.byteOf[ids[i]] >= 0) return true
    return false
  }

  decodeBytes(ids: ArrayLike<number>, options?: DecodeOptions): Uint8Array {
    return this.table.concat(ids, options?.skipSpecial === true)
  }

  idToToken(id: number): string | null {
    return this.parts.tokens[id] ?? null
  }

  tokenToId(token: string): number | null {
    return this.ids.get(token) ?? null
  }

  toJSON(): HfTokenizerJson {
    return charToJson(this.parts)
  }

  serialize(): string {
    return serializeJson(this.toJSON())
  }

  private encodeOrdinary(text: string, out: IdBuffer): void {
    for (let i = 0; i < text.length; i++) {
      let cp = text.charCodeAt(i)
      let id: number
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
        cp = text.codePointAt(i)!
        i++
        id = this.astral.get(cp) ?? -1
      } else id = this.bmp[cp]!
      if (id >= 0) out.push(id)
      else if (this.byteFallback)
        for (const b of utf8(String.fromCodePoint(cp))) out.push(this.byteIds[b])
      else if (this.unk !== null) out.push(this.unk)
    }
  }
}

export interface CharTrainStats {
  texts: number
  bytes: number
  /** Distinct characters seen, and how many entered the vocabulary. */
  charactersSeen: number
  characters: number
  vocabSize: number
}

/**
 * A character tokenizer from a corpus, streaming: ids are the special tokens (then `<|unk|>`
 * without byte fallback), the 256 byte tokens (with byte fallback), then the characters seen,
 * sorted by code point. Lone surrogates count as U+FFFD, as encoding treats them.
 */
export async function trainChar(
  texts: TextSource,
  options: CharTrainOptions = {},
  onProgress?: ProgressCallback,
  signal?: AbortSignal,
): Promise<{ tokenizer: CharTokenizer; stats: CharTrainStats }> {
  const parsed = charTrainOptionsSchema.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new UserError('invalid_params', issue.message, issue.path.join('.'))
  }
  const config = parsed.data
  const specialTokens = [...config.specialTokens]
  if (!config.byteFallback && !specialTokens.includes(config.unkToken))
    specialTokens.push(config.unkToken)
  checkSpecialTokens(specialTokens)
  const single = specialTokens.find((t) => [...t].length === 1 || BYTE_TOKEN.test(t))
  if (single !== undefined)
    throw new UserError(
      'invalid_params',
      `The special token ${single} is spelled like a character or byte token; choose another name.`,
      'specialTokens',
    )

  const counts = new Map<number, number>()
  let textCount = 0
  let bytes = 0
  const pacer = new Pacer(signal, () =>
    onProgress?.({
      phase: 'count',
      texts: textCount,
      bytes,
      fraction: config.totalBytes ? Math.min(1, bytes / config.totalBytes) : null,
      types: counts.size,
    }),
  )
  await forEachChunk(
    texts,
    codePointCut,
    pacer,
    (chunk) => {
      for (const ch of wellFormed(chunk)) {
        const cp = ch.codePointAt(0)!
        counts.set(cp, (counts.get(cp) ?? 0) + 1)
      }
      bytes += Buffer.byteLength(chunk, 'utf8')
    },
    () => textCount++,
  )
  pacer.flush()

  const chars = [...counts]
    .filter(([, c]) => c >= config.minFrequency)
    .map(([cp]) => cp)
    .sort((a, b) => a - b)
  const tokens = [
    ...specialTokens,
    ...(config.byteFallback ? Array.from({ length: 256 }, (_, b) => byteToken(b)) : []),
    ...chars.map((cp) => String.fromCodePoint(cp)),
  ]
  const tokenizer = new CharTokenizer({
    tokens,
    specials: specialTokens.map((content, id) => ({ id, content })),
    byteFallback: config.byteFallback,
    unkToken: config.byteFallback ? null : config.unkToken,
    passthrough: DEFAULT_PASSTHROUGH,
  })
  return {
    tokenizer,
    stats: {
      texts: textCount,
      bytes,
      charactersSeen: counts.size,
      characters: chars.length,
      vocabSize: tokenizer.vocabSize,
    },
  }
}
