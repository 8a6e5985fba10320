/**
 * Integer hashing for fingerprints and features: Math.imul and shifts only. JavaScript
 * numbers multiplied in floating point lose bits past 2^53; Math.imul never does. Where
 * 64 bits are needed, two independent 32-bit lanes make one value.
 */

/** MurmurHash3's finalizer: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** FNV-1a over UTF-16 code units with a final mix: the cheapest decent hash of a short string. */
export function fnv32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return fmix32(h)
}
