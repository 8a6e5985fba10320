/**
 * eld's language scores, computed from eld's own n-gram data without its per-call
 * strings and objects.
 *
 * Why not call `eld.detect`: it was the dearest cleaning rule per document (about a third
 * of the rules' time in the clean job), and the cost is all in how it looks n-grams up: it
 * builds each n-gram as a string, keys an object by it, then walks `{lang: weight}` objects
 * with `for…in` (string keys back to indices) for every n-gram, and allocates one array per
 * language for the result. This file reads the same data once into typed arrays keyed by
 * number and runs the same arithmetic: the same language, scores and reliability, which
 * test/unit/data/language.test.ts checks against `eld.detect` on text in many scripts.
 *
 * The data is eld's `extrasmall` database (the one `eld/extrasmall` loads), read from the
 * installed package's files (eld-ngrams.ts), since eld exports only its detector. The
 * version is pinned in package.json; if the files are not where 2.1.0 keeps them,
 * `loadEldScorer` returns null and the rule calls eld itself (slower, same answers).
 */
import { readFile } from 'node:fs/promises'
import {
  ngramsFromObject,
  parseEldNgrams,
  type EldNgrams,
  type EldNgramsObject,
} from './eld-ngrams'

/** What eld's `detect` + `LanguageResult` report, as numbers. */
export interface EldScores {
  /** Top language's ISO 639-1 code, or '' when nothing scored. */
  language: string
  /** Its score, and the runner-up's, on eld's 0..1 scale (0 when absent). */
  score: number
  second: number
  /** eld's `isReliable()` with its default threshold ratio. */
  reliable: boolean
}

interface EldData {
  /** eld's word-separator pattern (regexPatterns.js). */
  separators: RegExp
  ngrams: EldNgrams
  dictionary: readonly string[]
  avgScore: Record<string, number>
}

// eld's constants (languageDetector.js, LanguageResult.js), kept as named there.
const BASE_NGRAM_SCORE = 53
const SCALE = 25
const CUT_AFTER = 350
const ENFORCE_CUT_AFTER = 380
const MAX_WORD_BYTES = 70
const RELIABLE_RATIO = 0.75
/** Longest n-gram in the database (a 4-byte slice between two spaces). */
const MAX_KEY_SYMBOLS = 6

/**
 * An n-gram's key: its characters as symbols 1..256, base 257 (at most 6 symbols, so
 * under 2^49: exact in a double). Words over 70 bytes end in a longer n-gram, which no
 * database entry matches; those are counted through a string set.
 */
const RADIX = 257

export class EldScorer {
  private readonly languages: string[]
  private readonly separators: RegExp
  private readonly avg: Float64Array
  /** Symbol (1..256) of each character code eld's strings can hold; 0: none. */
  private readonly symbolOf: Uint16Array
  /** Symbol of each UTF-8 byte as eld encodes non-ASCII characters (through its dictionary). */
  private readonly byteSymbol = new Uint16Array(256)
  // Open-addressed table of the database's n-grams: key, then its run of (language, weight).
  private readonly keys: Float64Array
  private readonly entryOf: Int32Array
  private readonly mask: number
  private readonly runStart: Int32Array
  private readonly runLang: Uint8Array
  private readonly runWeight: Int32Array
  // Per call, reused: encoded symbols and word bounds, the n-grams seen, the sums.
  private symbols = new Uint16Array(512)
  private readonly wordEnds = new Int32Array(512)
  private readonly seenKeys = new Float64Array(1024)
  private readonly seenStamp = new Int32Array(1024)
  private stamp = 0
  private readonly sums: Float64Array

  constructor(data: EldData) {
    const { languages, grams, runStart, runLang, runWeight } = data.ngrams
    this.separators = data.separators
    const count = languages.length
    this.languages = languages
    this.avg = Float64Array.from(this.languages, (code) => data.avgScore[code] ?? 0)
    this.sums = new Float64Array(count)
    if (count > 255) throw new Error('eld database has more languages than expected')

    // Symbols: every character an encoded word can contain (ASCII as itself, the rest
    // through eld's byte dictionary), each once: equal strings give equal keys.
    let maxCode = 0x7f
    for (const ch of data.dictionary) {
      if (ch.length !== 1) throw new Error('eld dictionary entry is not one character')
      maxCode = Math.max(maxCode, ch.charCodeAt(0))
    }
    this.symbolOf = new Uint16Array(maxCode + 1)
    let next = 1
    const symbol = (code: number): number => (this.symbolOf[code] ||= next++)
    for (let c = 0; c < 0x80; c++) symbol(c)
    for (let b = 0; b < 256; b++) this.byteSymbol[b] = symbol(data.dictionary[b].charCodeAt(0))
    if (next > RADIX) throw new Error('eld alphabet larger than expected')

    let size = 1
    while (size < grams.length * 2.5) size <<= 1
    this.keys = new Float64Array(size).fill(-1)
    this.entryOf = new Int32Array(size)
    this.mask = size - 1
    this.runStart = runStart
    this.runLang = runLang
    this.runWeight = runWeight.map((weight) => weight + BASE_NGRAM_SCORE)
    grams.forEach((gram, e) => {
      let key = 0
      for (let i = 0; i < gram.length; i++) {
        const code = gram.charCodeAt(i)
        const s = code < this.symbolOf.length ? this.symbolOf[code] : 0
        if (s === 0 || gram.length > MAX_KEY_SYMBOLS) return // no encoded text can match it
        key = key * RADIX + s
      }
      let slot = hashKey(key) & this.mask
      // A key written twice keeps its last run, as in the object literal it comes from.
      while (this.keys[slot] !== -1 && this.keys[slot] !== key) slot = (slot + 1) & this.mask
      this.keys[slot] = key
      this.entryOf[slot] = e
    })
  }

  /** eld's detect(text) and its result's scores and reliability. */
  score(input: string): EldScores {
    // textProcessor: separators to spaces, trimmed, lower-cased (eld cuts at 1000 first).
    const text = input.substring(0, 1000).replace(this.separators, ' ').trim().toLowerCase()
    const words = this.encode(text)
    const sums = this.sums
    sums.fill(0)
    let distinct = 0
    let long: Set<string> | null = null
    if (++this.stamp === 0x7fffffff) {
      this.stamp = 1
      this.seenStamp.fill(0)
    }
    // getByteNgrams + calculateScores: each distinct n-gram once.
    let start = 0
    for (let w = 0; w < words; w++) {
      const end = this.wordEnds[w]
      const full = end - start
      const len = full > MAX_WORD_BYTES ? MAX_WORD_BYTES : full
      let j = 0
      for (; j + 4 < len; j += 3) {
        if (this.addGram(start + j, 4, j === 0, false)) {
          distinct++
        }
      }
      // The last piece runs to the word's real end (eld's substring without an end).
      const from = len !== 3 ? Math.max(0, len - 4) : 0
      const pieceLength = full - from
      if (pieceLength + (j === 0 ? 1 : 0) + 1 > MAX_KEY_SYMBOLS) {
        long ??= new Set()
        const piece = `${j === 0 ? ' ' : ''}${Array.from(this.symbols.subarray(start + from, end)).join(',')} `
        if (!long.has(piece)) {
          long.add(piece)
          distinct++
        }
      } else if (this.addGram(start + from, pieceLength, j === 0, true)) distinct++
      start = end
    }

    // getMaxLang: the first language with the highest positive sum.
    let top = -1
    for (let l = 0; l < sums.length; l++)
      if (sums[l] > 0 && (top < 0 || sums[l] > sums[top])) top = l
    if (top < 0) return { language: '', score: 0, second: 0, reliable: false }
    // orderAndScale: positive sums as n/(n+25) of the mean per n-gram, best first (stable).
    let best = -1
    let bestScore = 0
    let runnerUp = -1
    let runnerUpScore = 0
    for (let l = 0; l < sums.length; l++) {
      if (!(sums[l] > 0)) continue
      const perGram = sums[l] / distinct
      const s = perGram / (perGram + SCALE)
      if (best < 0 || s > bestScore) {
        runnerUp = best
        runnerUpScore = bestScore
        best = l
        bestScore = s
      } else if (runnerUp < 0 || s > runnerUpScore) {
        runnerUp = l
        runnerUpScore = s
      }
    }
    const language = this.languages[top]
    // isReliable, as eld 2.1.0 writes it: the second term compares the top score with
    // the runner-up's *language index* (results[1][0]), not its score.
    const nextIndex = runnerUp >= 0 ? runnerUp : 0
    const reliable =
      distinct >= 3 &&
      !(this.avg[top] * RELIABLE_RATIO > bestScore || 0.01 > Math.abs(bestScore - nextIndex))
    return {
      language,
      score: bestScore,
      second: runnerUp >= 0 ? runnerUpScore : 0,
      reliable,
    }
  }

  /**
   * strToUtf8Bytes: the text's UTF-8 bytes as eld's symbols, split into words at spaces,
   * cut after the first space past 350 bytes (or anywhere past 380). Returns the word count.
   */
  private encode(text: string): number {
    if (this.symbols.length < text.length * 4 + 8)
      this.symbols = new Uint16Array(text.length * 4 + 8)
    const sym = this.symbols
    const ascii = this.symbolOf
    const bs = this.byteSymbol
    let n = 0
    let wordStart = 0
    let words = 0
    let bytes = 0
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i)
      if (c < 0x80) {
        if (c === 32) {
          if (n > wordStart && words < this.wordEnds.length) {
            this.wordEnds[words++] = n
            wordStart = n
          }
          if (bytes > CUT_AFTER) break
        } else sym[n++] = ascii[c]
        bytes++
      } else if (c < 0x800) {
        sym[n++] = bs[0xc0 | (c >> 6)]
        sym[n++] = bs[0x80 | (c & 0x3f)]
        bytes += 2
      } else if (c < 0xd800 || c >= 0xe000) {
        sym[n++] = bs[0xe0 | (c >> 12)]
        sym[n++] = bs[0x80 | ((c >> 6) & 0x3f)]
        sym[n++] = bs[0x80 | (c & 0x3f)]
        bytes += 3
      } else {
        i++
        c = 0x10000 + (((c & 0x3ff) << 10) | (text.charCodeAt(i) & 0x3ff))
        sym[n++] = bs[0xf0 | (c >> 18)]
        sym[n++] = bs[0x80 | ((c >> 12) & 0x3f)]
        sym[n++] = bs[0x80 | ((c >> 6) & 0x3f)]
        sym[n++] = bs[0x80 | (c & 0x3f)]
        bytes += 4
      }
      if (bytes > ENFORCE_CUT_AFTER) break
    }
    if (n > wordStart && words < this.wordEnds.length) this.wordEnds[words++] = n
    return words
  }

  /**
   * One n-gram (symbols [from, from+length), with a leading space if it starts its word
   * and a trailing one if it ends it): adds its weights if new. Returns whether it was new.
   */
  private addGram(from: number, length: number, lead: boolean, trail: boolean): boolean {
    const space = this.symbolOf[32]
    let key = lead ? space : 0
    for (let i = from; i < from + length; i++) key = key * RADIX + this.symbols[i]
    if (trail) key = key * RADIX + space
    // Seen in this call already?
    const seenMask = this.seenKeys.length - 1
    let s = hashKey(key) & seenMask
    while (this.seenStamp[s] === this.stamp) {
      if (this.seenKeys[s] === key) return false
      s = (s + 1) & seenMask
    }
    this.seenStamp[s] = this.stamp
    this.seenKeys[s] = key
    // In the database?
    let slot = hashKey(key) & this.mask
    for (;;) {
      const k = this.keys[slot]
      if (k === -1) return true
      if (k === key) break
      slot = (slot + 1) & this.mask
    }
    const e = this.entryOf[slot]
    for (let r = this.runStart[e]; r < this.runStart[e + 1]; r++)
      this.sums[this.runLang[r]] += this.runWeight[r]
    return true
  }
}

/** A 32-bit hash of a key below 2^53. */
function hashKey(key: number): number {
  const lo = key >>> 0
  const hi = (key / 4294967296) >>> 0
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * The scorer over the installed eld's extrasmall data, or null when its files are not
 * where eld 2.1.0 keeps them (the caller then uses eld.detect). The n-grams are scanned
 * from the data module's text; if that text is not in the expected shape, the module is
 * imported instead (slower to start, same arrays).
 */
export async function loadEldScorer(): Promise<EldScorer | null> {
  try {
    const entry = import.meta.resolve('eld/extrasmall')
    const module = (path: string) => new URL(path, entry)
    const [dictionary, avg, patterns] = await Promise.all([
      import(module('../dictionary.js').href) as Promise<Pick<EldData, 'dictionary'>>,
      import(module('../avgScore.js').href) as Promise<Pick<EldData, 'avgScore'>>,
      import(module('../regexPatterns.js').href) as Promise<Pick<EldData, 'separators'>>,
    ])
    const dataModule = module('../ngrams/extrasmall.js')
    let ngrams: EldNgrams
    try {
      ngrams = parseEldNgrams(await readFile(dataModule, 'utf8'))
    } catch {
      const imported = (await import(dataModule.href)) as { ngramsData: EldNgramsObject }
      ngrams = ngramsFromObject(imported.ngramsData)
    }
    return new EldScorer({
      ngrams,
      dictionary: dictionary.dictionary,
      avgScore: avg.avgScore,
      separators: patterns.separators,
    })
  } catch {
    return null
  }
}
