import { fmix32 } from './hash'
import { minhashFromWords, type Signature } from './minhash'

/**
 * Everything deduplication needs from a text, in one pass over its characters: the
 * 64-bit hash of its normalized form (exact duplicates) and its MinHash signature (near
 * duplicates). Normalization as in FineWeb: lowercase, diacritics stripped, digits to
 * 0, punctuation and symbols dropped, whitespace collapsed; so small edits such as a
 * changed date, other quotes or spacing look identical. No normalized copy of the text
 * is built: words are hashed (two 32-bit lanes, Math.imul) as the scan goes.
 */

export interface Fingerprint {
  /** 16 hex digits. */
  hash: string
  signature: Signature | null
}

const SEPARATOR = -1
/** Non-ASCII code units, normalized once: the base letter lower-cased, or SEPARATOR. */
const nonAscii = new Map<number, number[] | typeof SEPARATOR>()

function normalizeNonAscii(code: number): number[] | typeof SEPARATOR {
  let cached = nonAscii.get(code)
  if (cached !== undefined) return cached
  const ch = String.fromCharCode(code)
  if (code >= 0xd800 && code <= 0xdfff)
    cached = SEPARATOR // astral (emoji, rare scripts)
  else if (/\p{M}/u.test(ch))
    cached = [] // a combining mark: dropped
  else if (/[\p{L}\p{N}]/u.test(ch)) {
    const base = ch
      .normalize('NFD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
    cached = [...base].map((c) => (/\p{N}/u.test(c) ? 0x30 : c.charCodeAt(0)))
  } else cached = SEPARATOR
  nonAscii.set(code, cached)
  return cached
}

// Reused between documents: the word hashes of the current one.
let wordsA = new Int32Array(1024)
let wordsB = new Int32Array(1024)

/** `signatureOut`: where to write the signature (2 x bins values) instead of a new array. */
export function fingerprint(
  text: string,
  options: { shingleWords: number; bins: number; signature: boolean },
  signatureOut?: Signature,
): Fingerprint {
  // Exact hash lanes over the normalized stream "word word word".
  let exA = 0x811c9dc5
  let exB = 0x01000193
  let words = 0
  let inWord = false
  let wa = 0
  let wb = 0
  if (wordsA.length < text.length / 2 + 2) {
    wordsA = new Int32Array(Math.ceil(text.length / 2) + 2)
    wordsB = new Int32Array(wordsA.length)
  }
  const push = (c: number) => {
    if (!inWord) {
      if (words > 0) {
        exA = Math.imul(exA ^ 0x20, 0x01000193)
        exB = Math.imul(exB ^ 0x20, 0x5bd1e995)
      }
      inWord = true
      wa = 0x811c9dc5
      wb = 0x9747b28c
    }
    exA = Math.imul(exA ^ c, 0x01000193)
    exB = Math.imul(exB ^ c, 0x5bd1e995)
    wa = Math.imul(wa ^ c, 0x01000193)
    wb = Math.imul(wb ^ c, 0x5bd1e995)
  }
  const endWord = () => {
    if (!inWord) return
    inWord = false
    wordsA[words] = fmix32(wa)
    wordsB[words] = fmix32(wb ^ 0x2545f491)
    words++
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) {
      if (c >= 0x61 && c <= 0x7a) push(c)
      else if (c >= 0x41 && c <= 0x5a) push(c | 0x20)
      else if (c >= 0x30 && c <= 0x39) push(0x30)
      else endWord()
      continue
    }
    const n = normalizeNonAscii(c)
    if (n === SEPARATOR) endWord()
    else for (const k of n) push(k)
  }
  endWord()
  const hex = (x: number) => (fmix32(x) >>> 0).toString(16).padStart(8, '0')
  return {
    hash: hex(exA ^ words) + hex(exB),
    signature:
      options.signature && words > 0
        ? minhashFromWords(
            wordsA.subarray(0, words),
            wordsB.subarray(0, words),
            options.shingleWords,
            options.bins,
            signatureOut,
          )
        : null,
  }
}
