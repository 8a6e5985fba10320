/**
 * A document's text with its derived views (lines, words) computed once
 * and shared by every rule that reads the same text. Rules that change the text make a
 * new view.
 */
import { fmix32, fnv32 } from '../dedup/hash'

/** Words keep internal apostrophes, hyphens and dots ("don't", "e-mail", "3.14"). */
const TOKEN_RE = /[\p{L}\p{M}\p{N}]+(?:[-'’.][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]+/gu
const WORD_START_RE = /^[\p{L}\p{M}\p{N}]/u
const ALPHA_RE = /\p{L}/u
// eslint-disable-next-line no-control-regex -- the whole ASCII range, NUL included
const NON_ASCII_RE = /[^\u0000-\u007f]/
/** Scripts written without spaces: each character counts as a word. */
const CJK_RE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u
const CJK_RUN_RE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/gu

/**
 * The words and tokens of a text as the word-level rules need them: per word a hash, a
 * start and a length in typed arrays, and the few token counts the rules measure. No
 * string is made per token: this runs for every document, and a few hundred short
 * strings per document were a third of what the rules allocated.
 */
export interface WordStats {
  /** The text `starts` index: the view's text, or a copy with spaces around CJK characters. */
  source: string
  /** Each word's fnv32 hash: equal words, equal ids (unequal ones collide with p = 2^-32). */
  ids: Int32Array
  starts: Int32Array
  lengths: Int32Array
  /** Tokens: words and runs of punctuation. */
  tokens: number
  /** Tokens that hold a letter. */
  alphaTokens: number
  /** The longest token's length. */
  longestToken: number
}

export class TextView {
  private _lines?: string[]
  private _nonEmptyLines?: string[]
  private _wordStats?: WordStats
  private _ascii?: boolean

  constructor(readonly text: string) {}

  /** Whether the text is pure ASCII: rules take cheaper paths that give the same results. */
  get ascii(): boolean {
    return (this._ascii ??= !NON_ASCII_RE.test(this.text))
  }

  /** Lines split on "\n", untrimmed, empty ones included. */
  get lines(): string[] {
    return (this._lines ??= this.text.split('\n'))
  }

  /** Lines with content, trimmed. */
  get nonEmptyLines(): string[] {
    return (this._nonEmptyLines ??= this.lines.map((l) => l.trim()).filter((l) => l !== ''))
  }

  /**
   * Words (tokens that start with a letter or digit) and punctuation runs, as TOKEN_RE
   * splits the text; CJK characters are single tokens. ASCII text is scanned by hand,
   * to the same tokens (a test holds the two paths equal).
   */
  get wordStats(): WordStats {
    return (this._wordStats ??= this.ascii ? scanAscii(this.text) : scanUnicode(this.text))
  }
}

// Scratch for the ASCII scan, grown as needed; each view gets copies of its part.
let scratchIds = new Int32Array(1024)
let scratchStarts = new Int32Array(1024)
let scratchLengths = new Int32Array(1024)

/** JavaScript's \s within ASCII: tab, line feed, vertical tab, form feed, carriage return, space. */
function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

function isAsciiWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || isAsciiLetter(c)
}

function isAsciiLetter(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a
}

/** ASCII_TOKEN_RE's tokens by hand: word characters joined by single "-", "'" or ".", or else a run of anything but spaces and word characters. */
function scanAscii(text: string): WordStats {
  const n = text.length
  // A word takes at least one character and a separator: at most n / 2 + 1 of them.
  if (scratchIds.length < (n >> 1) + 1) {
    const size = (n >> 1) + 1
    scratchIds = new Int32Array(size)
    scratchStarts = new Int32Array(size)
    scratchLengths = new Int32Array(size)
  }
  let words = 0
  let tokens = 0
  let alphaTokens = 0
  let longestToken = 0
  let i = 0
  while (i < n) {
    let c = text.charCodeAt(i)
    if (isAsciiSpace(c)) {
      i++
      continue
    }
    const start = i
    if (isAsciiWordChar(c)) {
      // fnv32 of the word, as the scan goes.
      let h = 0x811c9dc5
      let letter = false
      for (;;) {
        if (!letter && isAsciiLetter(c)) letter = true
        h = Math.imul(h ^ c, 0x01000193)
        if (++i >= n) break
        c = text.charCodeAt(i)
        if (isAsciiWordChar(c)) continue
        // A joiner belongs to the word only between two word characters.
        if (
          (c === 0x2d || c === 0x27 || c === 0x2e) &&
          i + 1 < n &&
          isAsciiWordChar(text.charCodeAt(i + 1))
        )
          continue
        break
      }
      scratchIds[words] = fmix32(h)
      scratchStarts[words] = start
      scratchLengths[words] = i - start
      words++
      if (letter) alphaTokens++
    } else {
      // A run of anything but spaces and word characters.
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (isAsciiSpace(d) || isAsciiWordChar(d)) break
        i++
      }
    }
    tokens++
    if (i - start > longestToken) longestToken = i - start
  }
  // One array for the three (a typed array past 64 bytes is allocated off V8's heap).
  const all = new Int32Array(3 * words)
  all.set(scratchIds.subarray(0, words))
  all.set(scratchStarts.subarray(0, words), words)
  all.set(scratchLengths.subarray(0, words), 2 * words)
  return {
    source: text,
    ids: all.subarray(0, words),
    starts: all.subarray(words, 2 * words),
    lengths: all.subarray(2 * words),
    tokens,
    alphaTokens,
    longestToken,
  }
}

/** TOKEN_RE's tokens for text beyond ASCII, CJK characters set apart as tokens of their own. */
function scanUnicode(text: string): WordStats {
  const source = CJK_RE.test(text) ? text.replace(CJK_RUN_RE, ' $& ') : text
  const ids: number[] = []
  const starts: number[] = []
  const lengths: number[] = []
  let tokens = 0
  let alphaTokens = 0
  let longestToken = 0
  for (const m of source.matchAll(TOKEN_RE)) {
    const token = m[0]
    tokens++
    if (token.length > longestToken) longestToken = token.length
    if (hasLetter(token)) alphaTokens++
    if (WORD_START_RE.test(token)) {
      ids.push(fnv32(token))
      starts.push(m.index)
      lengths.push(token.length)
    }
  }
  return {
    source,
    ids: Int32Array.from(ids),
    starts: Int32Array.from(starts),
    lengths: Int32Array.from(lengths),
    tokens,
    alphaTokens,
    longestToken,
  }
}

/** Whether a token holds a letter; ASCII first, the Unicode class only when needed. */
function hasLetter(token: string): boolean {
  for (let i = 0; i < token.length; i++) if (isAsciiLetter(token.charCodeAt(i))) return true
  return ALPHA_RE.test(token)
}

/** Whether a text is mostly in a script written without spaces. */
export function isSpacelessLanguage(language: string | null): boolean {
  return language === 'zh' || language === 'ja' || language === 'ko' || language === 'th'
}

/**
 * Tokens for a rough size estimate: ~4 characters per token for Latin and similar
 * scripts, one per CJK character (what BPE tokenizers tend to give). A guide, not a count.
 */
export function estimateTokens(text: string): number {
  let cjk = 0
  let other = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c <= 32) continue
    if (
      (c >= 0x3040 && c <= 0x30ff) ||
      (c >= 0x3400 && c <= 0x9fff) ||
      (c >= 0xac00 && c <= 0xd7af)
    )
      cjk++
    else other++
  }
  return cjk + Math.ceil(other / 4)
}

/** Round a measurement for storage: 4 significant digits is plenty to explain a decision. */
export function round(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value
  return Number(value.toPrecision(4))
}

/** Counts of duplicate elements and the characters they hold (datatrove's find_duplicates). */
export function findDuplicates(items: readonly string[]): { elements: number; chars: number } {
  const seen = new Set<string>()
  let elements = 0
  let chars = 0
  for (const item of items) {
    if (seen.has(item)) {
      elements++
      chars += item.length
    } else seen.add(item)
  }
  return { elements, chars }
}
