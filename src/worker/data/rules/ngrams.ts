/**
 * Word n-gram statistics over integer word ids, for the Gopher repetition rule. An
 * n-gram is keyed by two 32-bit hash lanes (Math.imul, no floating-point products) in an
 * open-addressing table on typed arrays: no strings are joined and nothing is boxed.
 */

/** Each word as a 32-bit hash: equal words, equal ids (unequal ones collide with p = 2^-32). */
export function wordIds(words: readonly string[]): Int32Array {
  const ids = new Int32Array(words.length)
  for (let i = 0; i < words.length; i++) ids[i] = fnv32(words[i])
  return ids
}

import { fnv32 } from '../dedup/hash'

/** Counts per (laneA, laneB) key; reused between documents to avoid reallocating. */
class PairCounter {
  private a = new Int32Array(0)
  private b = new Int32Array(0)
  private count = new Int32Array(0)
  private mask = 0

  /** Empty the table, sized for `n` keys at a load factor of at most one half. */
  reset(n: number): void {
    let size = 64
    while (size < n * 2) size *= 2
    if (size > this.count.length) {
      this.a = new Int32Array(size)
      this.b = new Int32Array(size)
      this.count = new Int32Array(size)
    } else this.count.fill(0, 0, size)
    this.mask = size - 1
  }

  /** Add one to the key's count and return its slot (for countAt once all are in). */
  slotOf(a: number, b: number): number {
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask
    for (;;) {
      const c = this.count[i]
      if (c === 0) {
        this.a[i] = a
        this.b[i] = b
        this.count[i] = 1
        return i
      }
      if (this.a[i] === a && this.b[i] === b) {
        this.count[i] = c + 1
        return i
      }
      i = (i + 1) & this.mask
    }
  }

  countAt(slot: number): number {
    return this.count[slot]
  }

  /** Add one to the key's count and return the new count. */
  increment(a: number, b: number): number {
    return this.count[this.slotOf(a, b)]
  }
}

const counter = new PairCounter()

/**
 * Polynomial rolling hashes of all n-grams, two lanes with different odd bases, in
 * 32-bit ring arithmetic (Math.imul wraps exactly): each n-gram costs O(1), not O(n).
 */
class Rolling {
  a = 0
  b = 0
  private powA = 1
  private powB = 1
  private static readonly BASE_A = 0x01000193
  private static readonly BASE_B = 0x5bd1e995

  constructor(
    private readonly ids: Int32Array,
    private readonly n: number,
  ) {
    for (let i = 1; i < n; i++) {
      this.powA = Math.imul(this.powA, Rolling.BASE_A)
      this.powB = Math.imul(this.powB, Rolling.BASE_B)
    }
  }

  /** Hash of the n-gram starting at `start`, from scratch. */
  at(start: number): void {
    let a = 0
    let b = 0
    for (let i = start; i < start + this.n; i++) {
      a = (Math.imul(a, Rolling.BASE_A) + this.ids[i]) | 0
      b = (Math.imul(b, Rolling.BASE_B) + (this.ids[i] ^ 0x2545f491)) | 0
    }
    this.a = a
    this.b = b
  }

  /** Slide from the n-gram at `start` to the one at `start + 1`. */
  next(start: number): void {
    const out = this.ids[start]
    const inn = this.ids[start + this.n]
    this.a = (Math.imul((this.a - Math.imul(out, this.powA)) | 0, Rolling.BASE_A) + inn) | 0
    this.b =
      (Math.imul((this.b - Math.imul(out ^ 0x2545f491, this.powB)) | 0, Rolling.BASE_B) +
        (inn ^ 0x2545f491)) |
      0
  }
}

/** Characters of the n-gram at `start` when its words are joined by `sep` characters. */
function ngramChars(lengths: Int32Array, start: number, n: number, sep: number): number {
  let chars = (n - 1) * sep
  for (let i = start; i < start + n; i++) chars += lengths[i]
  return chars
}

/**
 * Characters of the most frequent n-gram times its count (words joined by spaces), as
 * Gopher's "top n-gram" measures it. Only an n-gram seen at least twice counts: a
 * single occurrence is not repetition.
 */
export function topNgramChars(ids: Int32Array, lengths: Int32Array, n: number): number {
  if (ids.length < n) return 0
  counter.reset(ids.length)
  const roll = new Rolling(ids, n)
  roll.at(0)
  let bestAt = 0
  let best = 0
  for (let i = 0; i + n <= ids.length; i++) {
    if (i > 0) roll.next(i - 1)
    const c = counter.increment(roll.a, roll.b)
    if (c > best) {
      best = c
      bestAt = i
    }
  }
  return best < 2 ? 0 : ngramChars(lengths, bestAt, n, 1) * best
}

/**
 * Which positions start an m-gram that occurs more than once in the text. An n-gram
 * (n >= m) can only be repeated where its first m words are, so the duplicate scans for
 * longer n-grams need to look at these positions only.
 */
export function repeatedStarts(ids: Int32Array, m: number): Uint8Array {
  const starts = new Uint8Array(ids.length)
  if (ids.length < m) return starts
  counter.reset(ids.length)
  const slots = new Int32Array(ids.length - m + 1)
  const roll = new Rolling(ids, m)
  roll.at(0)
  for (let i = 0; i + m <= ids.length; i++) {
    if (i > 0) roll.next(i - 1)
    slots[i] = counter.slotOf(roll.a, roll.b)
  }
  for (let i = 0; i < slots.length; i++) starts[i] = counter.countAt(slots[i]) > 1 ? 1 : 0
  return starts
}

/**
 * Characters in repeated n-grams (words joined without spaces), scanning left to right
 * and jumping past each repeat so overlapping repeats are not counted twice: datatrove's
 * find_all_duplicate. `starts` (from repeatedStarts with m <= n) lets the scan skip
 * every position whose n-gram is unique in the text: such an n-gram can neither repeat
 * an earlier one nor be repeated later, so leaving it out of the table changes nothing.
 */
export function duplicatedNgramChars(
  ids: Int32Array,
  lengths: Int32Array,
  n: number,
  starts: Uint8Array = repeatedStarts(ids, n),
): number {
  if (ids.length < n) return 0
  counter.reset(ids.length)
  const roll = new Rolling(ids, n)
  let chars = 0
  let i = 0
  while (i + n <= ids.length) {
    if (starts[i] === 0) {
      i++
      continue
    }
    roll.at(i)
    if (counter.increment(roll.a, roll.b) > 1) {
      chars += ngramChars(lengths, i, n, 0)
      i += n
    } else i++
  }
  return chars
}
