import { byteLevelDecodeToken, tokenToBytes } from './bytes'
import { bpeToJson, serializeJson, type BpeParts, type HfTokenizerJson } from './hf-json'
import { IdBuffer, wellFormed } from './id-buffer'
import { compilePattern, forEachSplit, nextCodePoint, toJsPattern } from './pretokenize'
import { SpecialMatcher, specialRoles, type AddedToken, type SpecialToken } from './specials'
import { TokenBytes } from './token-bytes'
import type { DecodeOptions, EncodeOptions, Tokenizer } from './types'

/** No merge applies: larger than any rank. */
const NONE = 0x7fffffff
/** Pieces longer than this (in UTF-16 units) are not cached: they rarely repeat. */
const MAX_CACHED_PIECE = 256

export interface BpeEncoderOptions {
  /** Distinct pieces remembered with their ids; the cache is emptied when full. Default 100 000. */
  cacheSize?: number
  /** Pieces up to this many bytes merge by scanning for the lowest rank, longer ones with a heap (same result). Default 64. */
  shortWordBytes?: number
}

/** Added tokens matched in one of Hugging Face's two passes (raw text, then normalized text). */
interface AddedPass {
  matcher: SpecialMatcher
  /** Some of them are not special, so the pass runs even without `allowSpecial`. */
  hasPlain: boolean
}

/**
 * Byte-level BPE encoding and decoding with exactly Hugging Face's results, in Hugging Face's
 * order: added tokens are found in the raw text, the rest is normalized (NFC, where the file
 * says so), added tokens marked `normalized` are found in that, the rest is cut into pieces by
 * the pre-tokenization patterns, each piece's UTF-8 bytes start as single-byte tokens, and the
 * adjacent pair with the lowest merge rank is merged (leftmost first on ties) until no pair has
 * a merge. Pieces repeat a lot in natural text, so their ids are cached.
 */
export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const
  readonly vocabSize: number
  readonly specialTokens: readonly SpecialToken[]
  /** Added tokens that are not special: matched in any text, as Hugging Face does. */
  readonly addedTokens: readonly AddedToken[]
  readonly bos: number | null
  readonly eos: number | null
  readonly pad: number | null
  readonly mergeCount: number
  /**
   * The split patterns as tokenizer.json writes them (run through `toJsPattern`), each applied
   * within the pieces of the one before; usually one.
   */
  readonly patterns: readonly string[]

  private readonly parts: BpeParts
  /** The last split pattern, which BPE pieces come from (sticky: the hot loop). */
  private readonly re: RegExp
  /** The patterns before it (global: most text lies between their matches). */
  private readonly outer: readonly RegExp[]
  private readonly nfc: boolean
  private readonly rawPass: AddedPass | null
  private readonly normalizedPass: AddedPass | null
  private readonly isSpecialId = (id: number) => this.table.isSpecial(id)
  private readonly table: TokenBytes
  private readonly ids: Map<string, number>
  /** Id of the token for each byte value. */
  private readonly byteIds = new Int32Array(256)
  /** Rank of each mergeable pair, keyed by left * vocabSize + right. */
  private readonly ranks = new Map<number, number>()
  /** The id a merge of each rank produces. */
  private readonly mergedIds: Int32Array
  private readonly cache = new Map<string, number | Int32Array>()
  private readonly cacheSize: number
  private readonly shortWordBytes: number
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  // Scratch space for one word, grown as needed.
  private sym = new Int32Array(256)
  private pairRanks = new Int32Array(256)

  constructor(parts: BpeParts, options: BpeEncoderOptions = {}) {
    this.parts = parts
    const { tokens, merges, specials } = parts
    const V = tokens.length
    this.vocabSize = V
    this.specialTokens = specials
    this.addedTokens = parts.added
    ;({ bos: this.bos, eos: this.eos, pad: this.pad } = specialRoles(specials))
    this.patterns = parts.splits
    const js = parts.splits.map(toJsPattern)
    this.re = compilePattern(js[js.length - 1])
    this.outer = js.slice(0, -1).map((p) => new RegExp(p, 'gu'))
    this.nfc = parts.normalizer === 'NFC'
    const all = [...specials, ...parts.added]
    const plainIds = new Set(parts.added.map((t) => t.id))
    this.rawPass = addedPass(
      all.filter((t) => t.normalized !== true),
      plainIds,
    )
    // Matched in normalized text; their content is NFC already (parseJson checks).
    this.normalizedPass = addedPass(
      all.filter((t) => t.normalized === true),
      plainIds,
    )
    this.cacheSize = options.cacheSize ?? 100_000
    this.shortWordBytes = options.shortWordBytes ?? 64

    const specialIds = new Set(specials.map((s) => s.id))
    const addedIds = new Set(all.map((s) => s.id))
    this.ids = new Map()
    this.byteIds.fill(-1)
    // Token strings are unique: tokenizer.json's vocab is a map, and an added token spelled like
    // a vocab entry is that entry.
    const bytes = tokens.map((t, id) => {
      this.ids.set(t, id)
      // As Hugging Face's ByteLevel decoder: table bytes if every character is in the table,
      // else the text itself (<|im_start|>).
      if (addedIds.has(id)) return byteLevelDecodeToken(t)
      const b = tokenToBytes(t)
      if (b === null) throw new Error(`Token ${id} (${JSON.stringify(t)}) is not byte-level.`)
      if (b.length === 1) this.byteIds[b[0]] = id
      return b
    })
    if (this.byteIds.includes(-1)) throw new Error('Every byte needs a token of its own.')
    this.table = new TokenBytes(bytes, specialIds)

    this.mergeCount = merges.length
    this.mergedIds = new Int32Array(merges.length)
    merges.forEach(([a, b], rank) => {
      const merged = this.ids.get(tokens[a] + tokens[b])
      if (merged === undefined)
        throw new Error(`Merge ${rank} makes a token not in the vocabulary.`)
      // A pair listed twice keeps its last rank, as Hugging Face's merge map does.
      this.ranks.set(a * V + b, rank)
      this.mergedIds[rank] = merged
    })
  }

  encode(text: string, options?: EncodeOptions): Int32Array {
    const input = wellFormed(text)
    const out = new IdBuffer((input.length >> 2) + 16)
    const allowSpecial = options?.allowSpecial === true
    this.findAdded(this.rawPass, input, allowSpecial, out, (raw) => {
      const normalized = this.nfc ? raw.normalize('NFC') : raw
      this.findAdded(this.normalizedPass, normalized, allowSpecial, out, (t) =>
        this.encodeOrdinary(t, out),
      )
    })
    return out.result()
  }

  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    return this.decoder.decode(this.decodeBytes(ids, options))
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

  /** The merges in rank order, as pairs of ids. */
  merges(): readonly (readonly [number, number])[] {
    return this.parts.merges
  }

  toJSON(): HfTokenizerJson {
    return bpeToJson(this.parts)
  }

  serialize(): string {
    return serializeJson(this.toJSON())
  }

  /**
   * Calls `onText` for the stretches of text between added tokens and pushes their ids. Special
   * tokens count only with `allowSpecial`; without it they stay text, as Hugging Face's
   * `encode_special_tokens` leaves them, so a document cannot fake a boundary.
   */
  private findAdded(
    pass: AddedPass | null,
    text: string,
    allowSpecial: boolean,
    out: IdBuffer,
    onText: (text: string) => void,
  ): void {
    if (pass === null || !(allowSpecial || pass.hasPlain)) onText(text)
    else
      pass.matcher.split(
        text,
        onText,
        (id) => out.push(id),
        allowSpecial ? undefined : this.isSpecialId,
      )
  }

  /** Encodes text without added tokens: through the outer split patterns, if any, then BPE. */
  private encodeOrdinary(text: string, out: IdBuffer, level = 0): void {
    if (level === this.outer.length) this.encodeSplit(text, out)
    else
      forEachSplit(this.outer[level], text, (piece) => this.encodeOrdinary(piece, out, level + 1))
  }

  private encodeSplit(text: string, out: IdBuffer): void {
    // The loop of forEachPiece, inlined: this is the hot path.
    const re = this.re
    let pos = 0
    let gap = -1
    while (pos < text.length) {
      re.lastIndex = pos
      if (!re.test(text) || re.lastIndex === pos) {
        if (gap < 0) gap = pos
        pos = nextCodePoint(text, pos)
        continue
      }
      const end = re.lastIndex
      if (gap >= 0) {
        this.encodePiece(text.slice(gap, pos), out)
        gap = -1
      }
      this.encodePiece(text.slice(pos, end), out)
      pos = end
    }
    if (gap >= 0) this.encodePiece(text.slice(gap), out)
  }

  private encodePiece(piece: string, out: IdBuffer): void {
    const cached = this.cache.get(piece)
    if (cached !== undefined) {
      if (typeof cached === 'number') out.push(cached)
      else out.pushAll(cached)
      return
    }
    const ids = this.bpe(piece)
    if (typeof ids === 'number') out.push(ids)
    else out.pushAll(ids)
    if (piece.length <= MAX_CACHED_PIECE) {
      if (this.cache.size >= this.cacheSize) this.cache.clear()
      this.cache.set(piece, ids)
    }
  }

  /** The ids of one piece: a number when it is a single token (most cached pieces are). */
  private bpe(piece: string): number | Int32Array {
    const n = this.toByteIds(piece)
    if (this.parts.ignoreMerges) {
      let token = ''
      for (let i = 0; i < n; i++) token += this.parts.tokens[this.sym[i]]
      // Only the model's own vocabulary, as Hugging Face's BPE looks the piece up there, and never
      // a special token: text only becomes one through allowSpecial.
      const whole = this.ids.get(token)
      if (whole !== undefined && whole < this.parts.modelSize && !this.table.isSpecial(whole))
        return whole
    }
    const len = n <= this.shortWordBytes ? this.mergeShort(n) : this.mergeLong(n)
    return len === 1 ? this.sym[0] : this.sym.slice(0, len)
  }

  /** Writes the byte tokens of a piece's UTF-8 into `sym`; returns how many. */
  private toByteIds(piece: string): number {
    if (this.sym.length < piece.length * 3) {
      this.sym = new Int32Array(piece.length * 3)
      this.pairRanks = new Int32Array(piece.length * 3)
    }
    const sym = this.sym
    const byteIds = this.byteIds
    let n = 0
    for (let i = 0; i < piece.length; i++) {
      let c = piece.charCodeAt(i)
      if (c < 0x80) {
        sym[n++] = byteIds[c]!
      } else if (c < 0x800) {
        sym[n++] = byteIds[0xc0 | (c >> 6)]!
        sym[n++] = byteIds[0x80 | (c & 0x3f)]!
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < piece.length ? piece.charCodeAt(i + 1) : 0
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
          i++
          sym[n++] = byteIds[0xf0 | (cp >> 18)]!
          sym[n++] = byteIds[0x80 | ((cp >> 12) & 0x3f)]!
          sym[n++] = byteIds[0x80 | ((cp >> 6) & 0x3f)]!
          sym[n++] = byteIds[0x80 | (cp & 0x3f)]!
        } else {
          // A lone surrogate: U+FFFD, as TextEncoder (encode() already replaced them).
          c = 0xfffd
          sym[n++] = byteIds[0xe0 | (c >> 12)]!
          sym[n++] = byteIds[0x80 | ((c >> 6) & 0x3f)]!
          sym[n++] = byteIds[0x80 | (c & 0x3f)]!
        }
      } else {
        sym[n++] = byteIds[0xe0 | (c >> 12)]!
        sym[n++] = byteIds[0x80 | ((c >> 6) & 0x3f)]!
        sym[n++] = byteIds[0x80 | (c & 0x3f)]!
      }
    }
    return n
  }

  private rank(a: number, b: number): number {
    return this.ranks.get(a * this.vocabSize + b) ?? NONE
  }

  /** Merges `sym[0..n)` in place, finding the lowest rank by a scan; returns the new length. */
  private mergeShort(n: number): number {
    const sym = this.sym
    const ranks = this.pairRanks
    for (let i = 0; i < n - 1; i++) ranks[i] = this.rank(sym[i], sym[i + 1])
    while (n > 1) {
      let best = NONE
      let at = -1
      for (let i = 0; i < n - 1; i++) {
        if (ranks[i] < best) {
          best = ranks[i]!
          at = i
        }
      }
      if (at < 0) break
      sym[at] = this.mergedIds[best]!
      for (let i = at + 1; i < n - 1; i++) {
        sym[i] = sym[i + 1]!
        ranks[i] = ranks[i + 1]!
      }
      n--
      if (at > 0) ranks[at - 1] = this.rank(sym[at - 1], sym[at])
      if (at < n - 1) ranks[at] = this.rank(sym[at], sym[at + 1])
    }
    return n
  }

  /**
   * The same merges for long words in O(n log n): symbols in a linked list, candidate merges in
   * a min-heap keyed by (rank, position), stale entries skipped, as Hugging Face's Word does.
   */
  private mergeLong(n: number): number {
    const sym = this.sym
    const next = new Int32Array(n)
    const prev = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      next[i] = i + 1
      prev[i] = i - 1
    }
    const heap = new MinHeap(n)
    for (let i = 0; i < n - 1; i++) {
      const r = this.rank(sym[i], sym[i + 1])
      if (r !== NONE) heap.push(r * n + i)
    }
    while (heap.size > 0) {
      const key = heap.pop()
      const r = Math.floor(key / n)
      const i = key - r * n
      const j = next[i]
      if (sym[i] < 0 || j >= n || this.rank(sym[i], sym[j]) !== r) continue
      sym[i] = this.mergedIds[r]!
      sym[j] = -1
      next[i] = next[j]!
      if (next[i] < n) prev[next[i]] = i
      if (prev[i] >= 0) {
        const rl = this.rank(sym[prev[i]], sym[i])
        if (rl !== NONE) heap.push(rl * n + prev[i])
      }
      if (next[i] < n) {
        const rr = this.rank(sym[i], sym[next[i]])
        if (rr !== NONE) heap.push(rr * n + i)
      }
    }
    let len = 0
    for (let i = 0; i < n; i = next[i]!) sym[len++] = sym[i]!
    return len
  }
}

function addedPass(tokens: readonly AddedToken[], plainIds: ReadonlySet<number>): AddedPass | null {
  if (tokens.length === 0) return null
  return {
    matcher: new SpecialMatcher(tokens),
    hasPlain: tokens.some((t) => plainIds.has(t.id)),
  }
}

/** A binary min-heap of non-negative integers below 2^53. */
class MinHeap {
  private items: Float64Array
  size = 0

  constructor(capacity: number) {
    this.items = new Float64Array(Math.max(capacity, 4))
  }

  push(value: number): void {
    if (this.size === this.items.length) {
      const grown = new Float64Array(this.items.length * 2)
      grown.set(this.items)
      this.items = grown
    }
    const items = this.items
    let i = this.size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (items[parent] <= value) break
      items[i] = items[parent]!
      i = parent
    }
    items[i] = value
  }

  pop(): number {
    const items = this.items
    const top = items[0]
    const last = items[--this.size]
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= this.size) break
      if (child + 1 < this.size && items[child + 1] < items[child]) child++
      if (items[child] >= last) break
      items[i] = items[child]!
      i = child
    }
    items[i] = last
    return top
  }
}
