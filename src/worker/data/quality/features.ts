import { fmix32, fnv32 } from '../dedup/hash'

/**
 * Features for the quality model: hashed word unigrams and bigrams (the "what it says")
 * plus a few text statistics that echo the rules' measurements (the "how it looks").
 * Hashing keeps the model a fixed size, whatever the vocabulary. Everything comes from
 * one pass over the characters, with no per-word strings: this runs on every document.
 */

export const HASH_BITS = 18
const HASH_SIZE = 1 << HASH_BITS
const HASH_MASK = HASH_SIZE - 1
/** Only the start of long documents: enough to judge quality, bounded cost. */
const MAX_WORDS = 1000
const MAX_CHARS = 20_000

export const denseFeatureNames = [
  'log_words',
  'mean_word_length',
  'stop_word_ratio',
  'alpha_word_ratio',
  'terminal_line_ratio',
  'short_line_ratio',
  'duplicate_line_ratio',
  'digit_ratio',
  'uppercase_ratio',
  'symbol_ratio',
  'bullet_line_ratio',
  'placeholder_ratio',
  'mean_line_length',
  'unique_word_ratio',
] as const

export const FEATURE_COUNT = HASH_SIZE + denseFeatureNames.length

/** A sparse vector: sorted unique indices and their values. */
export interface SparseVector {
  idx: Int32Array
  val: Float32Array
}

// Word hashes are FNV-1a over lower-cased code units (fnv32), computed while scanning.
const STOP_HASHES = new Set(
  'the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all would there their what so up out if about who get which go me'
    .split(' ')
    .map(fnv32),
)

/** Letters and digits (ASCII fast path; beyond Latin-1 punctuation blocks count as non-word). */
function isWordChar(c: number): boolean {
  if (c < 0x80) return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)
  if (c < 0xc0) return false
  return (
    !(c >= 0x2000 && c <= 0x2bff) && !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xff00 && c <= 0xff0f)
  )
}

const TERMINAL = new Set([
  0x2e, 0x21, 0x3f, 0x22, 0x27, 0x201d, 0x2019, 0x3002, 0xff01, 0xff1f, 0x3a, 0x3b,
])
const BULLETS = new Set([0x2022, 0x2d, 0x2023, 0x25e6, 0x2043, 0x2219, 0x2a])

// Reused between calls: counts by bucket, and which buckets this document touched.
const counts = new Float32Array(HASH_SIZE)
let touched = new Int32Array(4096)

const clip = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x)

/** The feature vector of a (cleaned) text. */
export function extractFeatures(fullText: string): SparseVector {
  const text = fullText.length > MAX_CHARS ? fullText.slice(0, MAX_CHARS) : fullText
  let nTouched = 0
  const bump = (bucket: number) => {
    if (counts[bucket] === 0) {
      if (nTouched === touched.length) {
        const grown = new Int32Array(touched.length * 2)
        grown.set(touched)
        touched = grown
      }
      touched[nTouched++] = bucket
    }
    counts[bucket] += 1
  }

  let words = 0
  let wordChars = 0
  let stop = 0
  let alphaWords = 0
  let prevWord = 0
  const wordSet = new Set<number>()
  let digits = 0
  let upper = 0
  let symbols = 0
  let nonSpace = 0
  // Line state: hash, first and last visible characters, visible length.
  let lines = 0
  let terminalLines = 0
  let shortLines = 0
  let bulletLines = 0
  const lineSet = new Set<number>()
  let duplicateLines = 0
  let lineHash = 0x811c9dc5
  let lineLength = 0
  let lineFirst = -1
  let lineLast = -1
  const endLine = () => {
    if (lineLength > 0) {
      lines++
      if (TERMINAL.has(lineLast)) terminalLines++
      if (lineLength <= 30) shortLines++
      if (BULLETS.has(lineFirst)) bulletLines++
      const h = fmix32(lineHash)
      if (lineSet.has(h)) duplicateLines++
      else lineSet.add(h)
    }
    lineHash = 0x811c9dc5
    lineLength = 0
    lineFirst = -1
    lineLast = -1
  }

  let h = 0x811c9dc5
  let inWord = false
  let wordLength = 0
  let wordAlpha = false
  const endWord = () => {
    inWord = false
    if (words >= MAX_WORDS) return
    const w = fmix32(h)
    words++
    wordChars += wordLength
    if (wordAlpha) alphaWords++
    if (STOP_HASHES.has(w)) stop++
    wordSet.add(w)
    bump((w >>> 0) & HASH_MASK)
    if (words > 1) bump((fmix32(Math.imul(prevWord, 0x9e3779b1) ^ w) >>> 0) & HASH_MASK)
    prevWord = w
  }

  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c === 0x0a) {
      if (inWord) endWord()
      endLine()
      continue
    }
    const space = c === 0x20 || c === 0x09 || c === 0x0d || c === 0xa0
    if (!space) {
      nonSpace++
      lineLength++
      lineHash = Math.imul(lineHash ^ c, 0x01000193)
      if (lineFirst === -1) lineFirst = c
      lineLast = c
    }
    if (isWordChar(c)) {
      if (c >= 0x41 && c <= 0x5a) {
        upper++
        c |= 0x20
      } else if (c >= 0x30 && c <= 0x39) digits++
      if (!inWord) {
        inWord = true
        h = 0x811c9dc5
        wordLength = 0
        wordAlpha = false
      }
      if (c > 0x39) wordAlpha = true
      h = Math.imul(h ^ c, 0x01000193)
      wordLength++
    } else {
      if (inWord) endWord()
      if (!space && c < 0x80) symbols++
    }
  }
  if (inWord) endWord()
  endLine()

  // log(1 + tf), L2-normalized, so long and short documents weigh alike.
  const buckets = touched.subarray(0, nTouched).sort()
  let norm = 0
  for (const b of buckets) {
    const v = Math.log1p(counts[b])
    counts[b] = v
    norm += v * v
  }
  norm = Math.sqrt(norm) || 1
  const nWords = Math.max(1, words)
  const nLines = Math.max(1, lines)
  const chars = Math.max(1, nonSpace)
  const placeholders = text.includes('<')
    ? (text.match(/<(?:EMAIL|PHONE|IP|CREDIT_CARD|BLOCKED)>/g)?.length ?? 0)
    : 0
  const dense = [
    clip(Math.log10(words + 1) / 4),
    clip(wordChars / nWords / 10),
    clip(stop / nWords),
    clip(alphaWords / nWords),
    terminalLines / nLines,
    shortLines / nLines,
    duplicateLines / nLines,
    clip(digits / chars),
    clip(upper / chars),
    clip(symbols / chars),
    bulletLines / nLines,
    clip((placeholders * 10) / nWords),
    clip(nonSpace / nLines / 400),
    clip(wordSet.size / nWords),
  ]
  const idx = new Int32Array(buckets.length + dense.length)
  const val = new Float32Array(buckets.length + dense.length)
  for (let i = 0; i < buckets.length; i++) {
    idx[i] = buckets[i]
    val[i] = counts[buckets[i]] / norm
    counts[buckets[i]] = 0
  }
  for (let j = 0; j < dense.length; j++) {
    idx[buckets.length + j] = HASH_SIZE + j
    val[buckets.length + j] = dense[j]
  }
  return { idx, val }
}
