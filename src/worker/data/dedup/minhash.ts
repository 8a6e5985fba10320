import { fmix32 } from './hash'

/**
 * MinHash signatures of word-shingle sets, for near-duplicate detection with LSH.
 *
 * Each shingle (`shingleWords` consecutive words) is hashed once to 64 bits (two
 * 32-bit lanes). Instead of k independent permutations, which cost k hash evaluations
 * per shingle, we use one-permutation hashing (Li, Owen & Zhang 2012): the hash picks a
 * bin out of k, and each bin keeps its minimum 64-bit value. Empty bins (short texts)
 * borrow from another bin chosen by a hash of the bin index and attempt (Shrivastava's
 * "optimal densification", 2017), the same for every document, so the probability that
 * two signatures agree in a bin stays their Jaccard similarity. k = bands x rows.
 */

/** Signature: for each of k bins, the minimum (hi, lo) pair; 2k unsigned 32-bit values. */
export type Signature = Uint32Array

// Each bin's minimum so far, reused between documents: allocating typed arrays of more
// than 64 bytes (off V8's heap) per document costs more than filling these.
let hi = new Uint32Array(0)
let lo = new Uint32Array(0)
let filled = new Uint8Array(0)

/**
 * The MinHash signature of a text given as the two 32-bit hash lanes of each of its
 * words (fingerprint.ts computes them). A text shorter than one shingle is a single
 * shingle of all its words. Written into `out` (2 x bins values) when given, so a batch
 * of documents can share one buffer.
 */
export function minhashFromWords(
  wa: Int32Array,
  wb: Int32Array,
  shingleWords: number,
  bins: number,
  out: Signature = new Uint32Array(bins * 2),
): Signature {
  const count = wa.length
  const n = Math.min(shingleWords, count)
  if (hi.length !== bins) {
    hi = new Uint32Array(bins)
    lo = new Uint32Array(bins)
    filled = new Uint8Array(bins)
  }
  hi.fill(0xffffffff)
  lo.fill(0xffffffff)
  filled.fill(0)
  for (let start = 0; start + n <= count; start++) {
    // Order-sensitive combination of the shingle's word hashes, one lane each.
    let a = 0x9e3779b9 ^ n
    let b = 0x7f4a7c15
    for (let i = start; i < start + n; i++) {
      a = Math.imul((a << 5) | (a >>> 27), 0xcc9e2d51) ^ wa[i]
      b = Math.imul((b << 7) | (b >>> 25), 0x1b873593) ^ wb[i]
    }
    const ha = fmix32(a) >>> 0
    const hb = fmix32(b ^ a) >>> 0
    // The bin is drawn from the high lane; the product is below 2^38, exact in a double.
    const bin = Math.floor((ha * bins) / 4294967296)
    // Within a bin, compare the 64-bit value (lo lane first, then hi).
    if (!filled[bin] || hb < lo[bin] || (hb === lo[bin] && ha < hi[bin])) {
      lo[bin] = hb
      hi[bin] = ha
      filled[bin] = 1
    }
  }
  densify(hi, lo, filled, bins)
  for (let i = 0; i < bins; i++) {
    out[2 * i] = hi[i]
    out[2 * i + 1] = lo[i]
  }
  return out
}

/** Fill each empty bin from a non-empty one picked by hash(bin, attempt), the same for all texts. */
function densify(hi: Uint32Array, lo: Uint32Array, filled: Uint8Array, bins: number): void {
  for (let i = 0; i < bins; i++) {
    if (filled[i]) continue
    for (let attempt = 1; ; attempt++) {
      const j = Math.floor(
        ((fmix32(Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(attempt, 0x85ebca77)) >>> 0) * bins) /
          4294967296,
      )
      if (filled[j]) {
        hi[i] = hi[j]
        lo[i] = lo[j]
        break
      }
    }
  }
}

/** Fraction of bins on which two signatures agree: an unbiased estimate of Jaccard similarity. */
export function estimatedJaccard(a: Signature, b: Signature): number {
  const bins = a.length / 2
  let same = 0
  for (let i = 0; i < a.length; i += 2) if (a[i] === b[i] && a[i + 1] === b[i + 1]) same++
  return same / bins
}

/**
 * One LSH key per band: a hash of the band's `rows` bins. Two documents become
 * candidates when any band's key matches. Keys are 53-bit integers (safe in a double
 * and in SQLite), built from two 32-bit lanes.
 */
export function bandKeys(sig: Signature, bands: number, rows: number): number[] {
  const keys: number[] = []
  for (let band = 0; band < bands; band++) {
    let a = 0x3c6ef372 ^ band
    let b = 0xa54ff53a ^ band
    for (let r = 0; r < rows; r++) {
      const i = 2 * (band * rows + r)
      a = Math.imul((a << 5) | (a >>> 27), 0xcc9e2d51) ^ sig[i]
      b = Math.imul((b << 7) | (b >>> 25), 0x1b873593) ^ sig[i + 1]
    }
    keys.push((fmix32(a) >>> 11) * 4294967296 + (fmix32(b ^ a) >>> 0))
  }
  return keys
}

/** The probability that LSH makes two documents with Jaccard similarity `s` candidates. */
export function candidateProbability(s: number, bands: number, rows: number): number {
  return 1 - Math.pow(1 - Math.pow(s, rows), bands)
}
