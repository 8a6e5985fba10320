import { byteLevelDecodeToken, tokenToBytes } from './bytes'
import {
  bpeToJson,
  pretokenizerPattern,
  serializeJson,
  type BpeParts,
  type HfTokenizerJson,
} from './hf-json'
import { IdBuffer, wellFormed } from './id-buffer'
import { compilePattern, nextCodePoint, toJsPattern } from './pretokenize'
import { SpecialMatcher, specialRoles, type SpecialToken } from './specials'
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

/**
 * Byte-level BPE encoding and decoding with exactly Hugging Face's results: text is cut into
 * pieces by the pre-tokenization regex, each piece's UTF-8 bytes start as single-byte tokens,
 * and the adjacent pair with the lowest merge rank is merged (leftmost first on ties) until no
 * pair has a merge. Pieces repeat a lot in natural text, so their ids are cached.
 */
export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const
  readonly vocabSize: number
  readonly specialTokens: readonly SpecialToken[]
  readonly bos: number | null
  readonly eos: number | null
  readonly pad: number | null
  readonly mergeCount: number
  /** The split pattern as tokenizer.json writes it (run through `toJsPattern`). */
  readonly pattern: string

  private readonly parts: BpeParts
  private readonly re: RegExp
  private readonly specialMatcher: SpecialMatcher
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
    ;({ bos: this.bos, eos: this.eos, pad: this.pad } = specialRoles(specials))
    this.pattern = pretokenizerPattern(parts.pretokenizer)
    this.re = compilePattern(toJsPattern(this.pattern))
    this.specialMatcher = new SpecialMatcher(specials)
    this.cacheSize = options.cacheSize ?? 100_000
    this.shortWordBytes = options.shortWordBytes ?? 64

    const specialIds = new Set(specials.map((s) => s.id))
    this.ids = new Map()
    this.byteIds.fill(-1)
    // Token strings are unique: tokenizer.json's vocab is a map, and a special token spelled like
    // a vocab entry is that entry.
    const bytes = tokens.map((t, id) => {
      this.ids.set(t, id)
      if (specialIds.has(id)) return byteLevelDecodeToken(t)
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

  private encodeOrdinary(text: string, out: IdBuffer): void {
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
      // Never a special token: text only becomes one through allowSpecial.
      const whole = this.ids.get(token)
      if (whole !== undefined && !this.table.isSpecial(whole)) return whole
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
