/**
 * Word n-gram statistics over integer word ids, for the Gopher repetition rule. An
 * n-gram is keyed by two 32-bit polynomial hash lanes (Math.imul, no floating-point
 * products) in an open-addressing table on typed arrays: no strings are joined and
 * nothing is boxed. The table and the hashing are plain module state and functions, not
 * objects: this runs several times per document, and V8 keeps these loops tight.
 */

const BASE_A = 0x01000193
const BASE_B = 0x5bd1e995
/** Lane B hashes each id xor this, so the two lanes differ even where the bases would not. */
const SALT_B = 0x2545f491

// The table, reused between documents: the two lanes of each key, and its count (0: empty).
let laneA = new Int32Array(1024)
let laneB = new Int32Array(1024)
let counts = new Int32Array(1024)

/** Empty the table, sized for `keys` keys at a load factor of at most one half; returns its mask. */
function resetTable(keys: number): number {
  let size = 64
  while (size < keys * 2) size *= 2
  if (size > counts.length) {
    laneA = new Int32Array(size)
    laneB = new Int32Array(size)
    counts = new Int32Array(size)
  } else counts.fill(0, 0, size)
  return size - 1
}

/** Add one to the key's count; returns its slot in the table. */
function bump(a: number, b: number, mask: number): number {
  let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask
  for (;;) {
    const c = counts[i]
    if (c === 0) {
      laneA[i] = a
      laneB[i] = b
      counts[i] = 1
      return i
    }
    if (laneA[i] === a && laneB[i] === b) {
      counts[i] = c + 1
      return i
    }
    i = (i + 1) & mask
  }
}

/** Lane A of the n-gram starting at `start`. */
function hashA(ids: Int32Array, start: number, n: number): number {
  let h = 0
  for (let i = start; i < start + n; i++) h = (Math.imul(h, BASE_A) + ids[i]) | 0
  return h
}

/** Lane B of the n-gram starting at `start`. */
function hashB(ids: Int32Array, start: number, n: number): number {
  let h = 0
  for (let i = start; i < start + n; i++) h = (Math.imul(h, BASE_B) + (ids[i] ^ SALT_B)) | 0
  return h
}

/** base^(n-1) in 32-bit ring arithmetic: what the word leaving a rolling window weighed. */
function power(base: number, n: number): number {
  let p = 1
  for (let i = 1; i < n; i++) p = Math.imul(p, base)
  return p
}

/** Characters of the n-gram at `start` when its words are joined by `sep` characters. */
function ngramChars(lengths: Int32Array, start: number, n: number, sep: number): number {
  let chars = (n - 1) * sep
  for (let i = start; i < start + n; i++) chars += lengths[i]
  return chars
}

// The slot of each position's n-gram (-1 where not counted), reused between calls.
let slots = new Int32Array(1024)

/**
 * Count a text's n-grams and record where they repeat in `levels` (as long as `ids`,
 * owned by the caller so that nothing is allocated per document): levels[i] becomes n
 * where the n-gram starting at i occurs more than once. Without `cascade` every position
 * is counted and every level set (0 where nothing repeats). With it, only positions where
 * the (n-1)-gram repeats (levels[i] === n - 1) are counted, and only those levels rise:
 * an n-gram can only repeat where its first words do, so this skips n-grams that occur
 * once, which change neither the top count nor where repeats are. Gopher's measures for
 * n = 2, 3, 4 and the 5-gram starts of duplicatedNgramChars come from one such cascade,
 * each length counting fewer positions than the last (most of ordinary prose is unique).
 *
 * Returns the characters of the most frequent n-gram times its count (words joined by
 * spaces), Gopher's "top n-gram" measure, 0 when no n-gram occurs twice; and how many
 * positions repeat.
 */
export function countNgrams(
  ids: Int32Array,
  lengths: Int32Array,
  n: number,
  levels: Uint8Array,
  cascade: boolean,
): { top: number; repeats: number } {
  const count = ids.length - n + 1
  if (!cascade) levels.fill(0, 0, ids.length)
  if (count <= 0) return { top: 0, repeats: 0 }
  const mask = resetTable(count)
  if (slots.length < count) slots = new Int32Array(count * 2)
  let bestAt = 0
  let best = 0
  if (cascade) {
    // Sparse: hash each counted n-gram from scratch rather than roll over the rest.
    for (let i = 0; i < count; i++) {
      if (levels[i] !== n - 1) {
        slots[i] = -1
        continue
      }
      const slot = bump(hashA(ids, i, n), hashB(ids, i, n), mask)
      slots[i] = slot
      if (counts[slot] > best) {
        best = counts[slot]
        bestAt = i
      }
    }
  } else {
    // Every position: roll the hashes, O(1) per n-gram.
    const powA = power(BASE_A, n)
    const powB = power(BASE_B, n)
    let a = hashA(ids, 0, n)
    let b = hashB(ids, 0, n)
    for (let i = 0; ; i++) {
      const slot = bump(a, b, mask)
      slots[i] = slot
      if (counts[slot] > best) {
        best = counts[slot]
        bestAt = i
      }
      if (i + 1 === count) break
      const out = ids[i]
      const inn = ids[i + n]
      a = (Math.imul((a - Math.imul(out, powA)) | 0, BASE_A) + inn) | 0
      b = (Math.imul((b - Math.imul(out ^ SALT_B, powB)) | 0, BASE_B) + (inn ^ SALT_B)) | 0
    }
  }
  let repeats = 0
  for (let i = 0; i < count; i++)
    if (slots[i] >= 0 && counts[slots[i]] > 1) {
      levels[i] = n
      repeats++
    }
  return { top: best < 2 ? 0 : ngramChars(lengths, bestAt, n, 1) * best, repeats }
}

/**
 * Characters in repeated n-grams (words joined without spaces), scanning left to right
 * and jumping past each repeat so overlapping repeats are not counted twice: datatrove's
 * find_all_duplicate. Given countNgrams' `levels` up to some m <= n, the scan skips
 * every position whose m-gram (and so n-gram) is unique in the text, levels[i] < m:
 * such an n-gram can neither repeat an earlier one nor be repeated later, so leaving it
 * out of the table changes nothing. Without them every position is scanned.
 */
export function duplicatedNgramChars(
  ids: Int32Array,
  lengths: Int32Array,
  n: number,
  repeatsAt?: { levels: Uint8Array; m: number },
): number {
  if (ids.length < n) return 0
  const mask = resetTable(ids.length)
  const levels = repeatsAt?.levels
  const m = repeatsAt?.m ?? 0
  let chars = 0
  let i = 0
  while (i + n <= ids.length) {
    if (levels !== undefined && levels[i] < m) {
      i++
      continue
    }
    if (counts[bump(hashA(ids, i, n), hashB(ids, i, n), mask)] > 1) {
      chars += ngramChars(lengths, i, n, 0)
      i += n
    } else i++
  }
  return chars
}
