import { fmix32, fnv32 } from '../dedup/hash'

/**
 * Features for the quality model: hashed word unigrams and bigrams (the "what it says")
 * plus a few text statistics that echo the rules' measurements (the "how it looks").
 * Hashing keeps the model a fixed size, whatever the vocabulary. Everything comes from
 * one pass over the characters, with no per-word strings: this runs on every document.
 */

/** At most 18: the buckets are sorted with two 9-bit radix passes (sortBuckets). */
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

const STOP_WORD_LIST =
  'the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all would there their what so up out if about who get which go me'.split(
    ' ',
  )
// Word hashes are FNV-1a over lower-cased code units (fnv32), computed while scanning.
const STOP_WORDS = STOP_WORD_LIST.map(fnv32)
/** Longer words are not looked up: none of them is a stop word. */
const MAX_STOP_WORD_LENGTH = Math.max(...STOP_WORD_LIST.map((w) => w.length))

/** Letters and digits (ASCII fast path; beyond Latin-1 punctuation blocks count as non-word). */
function isWordChar(c: number): boolean {
  if (c < 0x80) return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)
  if (c < 0xc0) return false
  return (
    !(c >= 0x2000 && c <= 0x2bff) && !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xff00 && c <= 0xff0f)
  )
}

function isTerminal(c: number): boolean {
  return c < 0x80
    ? c === 0x2e || c === 0x21 || c === 0x3f || c === 0x22 || c === 0x27 || c === 0x3a || c === 0x3b
    : c === 0x201d || c === 0x2019 || c === 0x3002 || c === 0xff01 || c === 0xff1f
}

function isBullet(c: number): boolean {
  return (
    c === 0x2d ||
    c === 0x2a ||
    c === 0x2022 ||
    c === 0x2023 ||
    c === 0x25e6 ||
    c === 0x2043 ||
    c === 0x2219
  )
}

/**
 * A set of 32-bit hashes for one document at a time: open addressing in typed arrays,
 * emptied by bumping a stamp. (A Set<number> boxes every hash past 2^30 on the heap,
 * and this runs for every word and line of every document.)
 */
class HashSet {
  private keys: Int32Array
  private stamps: Int32Array
  private stamp = 1
  size = 0

  constructor(capacity: number) {
    this.keys = new Int32Array(capacity)
    this.stamps = new Int32Array(capacity)
  }

  clear(): void {
    this.size = 0
    if (++this.stamp === 0x7fffffff) {
      this.stamp = 1
      this.stamps.fill(0)
    }
  }

  has(h: number): boolean {
    return this.stamps[this.slot(h)] === this.stamp
  }

  /** Adds h; returns whether it was already there. */
  add(h: number): boolean {
    let slot = this.slot(h)
    if (this.stamps[slot] === this.stamp) return true
    if (this.size * 2 >= this.keys.length) {
      this.grow()
      slot = this.slot(h)
    }
    this.stamps[slot] = this.stamp
    this.keys[slot] = h
    this.size++
    return false
  }

  /** Where h is, or the free slot where it would go. */
  private slot(h: number): number {
    const mask = this.keys.length - 1
    let slot = h & mask
    while (this.stamps[slot] === this.stamp && this.keys[slot] !== h) slot = (slot + 1) & mask
    return slot
  }

  private grow(): void {
    const { keys, stamps, stamp } = this
    this.keys = new Int32Array(keys.length * 2)
    this.stamps = new Int32Array(keys.length * 2)
    this.stamp = 1
    this.size = 0
    for (let i = 0; i < keys.length; i++) if (stamps[i] === stamp) this.add(keys[i])
  }
}

/**
 * Counts by bucket for one document: open addressing, so the few hundred buckets a
 * document touches sit in a few cache lines instead of spread over a 2^18 array.
 */
const COUNT_BITS = 13
const COUNT_SLOTS = 1 << COUNT_BITS

class BucketCounts {
  // 2^13 slots: at most a quarter full (a unigram and a bigram for each of 1000 words).
  private readonly keys = new Int32Array(COUNT_SLOTS)
  private readonly stamps = new Int32Array(COUNT_SLOTS)
  private readonly values = new Float32Array(COUNT_SLOTS)
  private stamp = 1
  /** The distinct buckets counted, in order of first count. */
  readonly buckets = new Int32Array(2 * MAX_WORDS)
  size = 0

  clear(): void {
    this.size = 0
    if (++this.stamp === 0x7fffffff) {
      this.stamp = 1
      this.stamps.fill(0)
    }
  }

  private slot(bucket: number): number {
    const mask = this.keys.length - 1
    let slot = Math.imul(bucket, 0x9e3779b1) >>> (32 - COUNT_BITS)
    while (this.stamps[slot] === this.stamp && this.keys[slot] !== bucket) slot = (slot + 1) & mask
    return slot
  }

  add(bucket: number): void {
    const slot = this.slot(bucket)
    if (this.stamps[slot] !== this.stamp) {
      this.stamps[slot] = this.stamp
      this.keys[slot] = bucket
      this.values[slot] = 0
      this.buckets[this.size++] = bucket
    }
    this.values[slot] += 1
  }

  get(bucket: number): number {
    return this.values[this.slot(bucket)]
  }
}

const stopWords = new HashSet(256)
for (const w of STOP_WORDS) stopWords.add(w)
const wordSet = new HashSet(4096)
const lineSet = new HashSet(1024)

const counts = new BucketCounts()

/** log(1 + k) for the small counts most buckets have: the same values, looked up. */
const LOG1P = Array.from({ length: 64 }, (_, k) => Math.log1p(k))

const clip = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x)

/** The feature vector of a (cleaned) text, in arrays of its own. */
export function extractFeatures(text: string): SparseVector {
  const n = featuresInto(text)
  return { idx: vectorIdx.slice(0, n), val: vectorVal.slice(0, n) }
}

/**
 * The same vector as views of buffers that the next call overwrites: for scoring, which
 * reads it once. Two typed arrays of a few hundred entries, allocated off V8's heap for
 * every document, cost more than the dot product they feed.
 */
export function transientFeatures(text: string): SparseVector {
  const n = featuresInto(text)
  return { idx: vectorIdx.subarray(0, n), val: vectorVal.subarray(0, n) }
}

// The vector of the last text, reused: its buckets (at most a unigram and a bigram per
// word) then the dense features.
const vectorIdx = new Int32Array(2 * MAX_WORDS + denseFeatureNames.length)
const vectorVal = new Float32Array(vectorIdx.length)

/**
 * Write a text's feature vector into vectorIdx/vectorVal; returns its length. One loop
 * with its state in locals: the end of the text is read as a final newline, so a word
 * and a line end in one place each.
 */
function featuresInto(fullText: string): number {
  const text = fullText.length > MAX_CHARS ? fullText.slice(0, MAX_CHARS) : fullText
  counts.clear()
  wordSet.clear()
  lineSet.clear()

  let words = 0
  let wordChars = 0
  let stop = 0
  let alphaWords = 0
  let prevWord = 0
  let digits = 0
  let upper = 0
  let symbols = 0
  let nonSpace = 0
  // Line state: hash, first and last visible characters, visible length.
  let lines = 0
  let terminalLines = 0
  let shortLines = 0
  let bulletLines = 0
  let duplicateLines = 0
  let lineHash = 0x811c9dc5
  let lineLength = 0
  let lineFirst = -1
  let lineLast = -1
  // Word state.
  let h = 0x811c9dc5
  let inWord = false
  let wordLength = 0
  let wordAlpha = false

  const n = text.length
  for (let i = 0; i <= n; i++) {
    let c = i < n ? text.charCodeAt(i) : 0x0a
    if (isWordChar(c)) {
      nonSpace++
      lineLength++
      lineHash = Math.imul(lineHash ^ c, 0x01000193)
      if (lineFirst === -1) lineFirst = c
      lineLast = c
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
      continue
    }
    if (inWord) {
      // End of a word: its hash, statistics, and unigram + bigram buckets.
      inWord = false
      if (words < MAX_WORDS) {
        const w = fmix32(h)
        words++
        wordChars += wordLength
        if (wordAlpha) alphaWords++
        if (wordLength <= MAX_STOP_WORD_LENGTH && stopWords.has(w)) stop++
        wordSet.add(w)
        counts.add(w & HASH_MASK)
        if (words > 1) counts.add(fmix32(Math.imul(prevWord, 0x9e3779b1) ^ w) & HASH_MASK)
        prevWord = w
      }
    }
    if (c === 0x0a) {
      if (lineLength > 0) {
        lines++
        if (isTerminal(lineLast)) terminalLines++
        if (lineLength <= 30) shortLines++
        if (isBullet(lineFirst)) bulletLines++
        if (lineSet.add(fmix32(lineHash))) duplicateLines++
      }
      lineHash = 0x811c9dc5
      lineLength = 0
      lineFirst = -1
      lineLast = -1
      continue
    }
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0xa0) continue
    nonSpace++
    lineLength++
    lineHash = Math.imul(lineHash ^ c, 0x01000193)
    if (lineFirst === -1) lineFirst = c
    lineLast = c
    if (c < 0x80) symbols++
  }

  // log(1 + tf), L2-normalized, so long and short documents weigh alike.
  const touched = counts.size
  const idx = vectorIdx
  const val = vectorVal
  sortBuckets(counts.buckets, touched, idx)
  let norm = 0
  for (let i = 0; i < touched; i++) {
    const count = counts.get(idx[i])
    const v = count < LOG1P.length ? LOG1P[count] : Math.log1p(count)
    val[i] = v
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
  for (let i = 0; i < touched; i++) val[i] /= norm
  for (let j = 0; j < dense.length; j++) {
    idx[touched + j] = HASH_SIZE + j
    val[touched + j] = dense[j]
  }
  return touched + dense.length
}

// Bucket indices have HASH_BITS = 18 bits: two counting passes of 9 bits sort them.
const RADIX_BITS = 9
const radixCounts = new Int32Array(1 << RADIX_BITS)
const radixScratch = new Int32Array(2 * MAX_WORDS)

/**
 * The first `n` of `from` in ascending order, into `to` (LSD radix sort). A typed
 * array's sort() took about a third of the features' time for a document's few hundred
 * buckets; two linear passes do the same.
 */
function sortBuckets(from: Int32Array, n: number, to: Int32Array): void {
  const mask = (1 << RADIX_BITS) - 1
  countingPass(from, n, radixScratch, 0, mask)
  countingPass(radixScratch, n, to, RADIX_BITS, mask)
}

function countingPass(
  from: Int32Array,
  n: number,
  to: Int32Array,
  shift: number,
  mask: number,
): void {
  radixCounts.fill(0)
  for (let i = 0; i < n; i++) radixCounts[(from[i] >>> shift) & mask]++
  let start = 0
  for (let b = 0; b < radixCounts.length; b++) {
    const count = radixCounts[b]
    radixCounts[b] = start
    start += count
  }
  for (let i = 0; i < n; i++) to[radixCounts[(from[i] >>> shift) & mask]++] = from[i]
}
