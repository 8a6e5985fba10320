/** Sequences of different lengths as one batch of rows, right-padded to the longest. */
export interface PaddedRows {
  R: number
  L: number
  /** (R·L) ids, 0 past a sequence's end (causal attention never lets a token see them). */
  ids: Int32Array
  /** (R·L) each token's position in its own sequence. */
  positions: Int32Array
  /** (R) the index in the R·L rows of each sequence's last token. */
  last: Int32Array
}

export function paddedRows(sequences: readonly (readonly number[])[]): PaddedRows {
  const R = sequences.length
  const L = Math.max(...sequences.map((s) => s.length))
  const ids = new Int32Array(R * L)
  const positions = new Int32Array(R * L)
  sequences.forEach((s, r) => {
    ids.set(s, r * L)
    for (let t = 0; t < L; t++) positions[r * L + t] = t
  })
  const last = Int32Array.from(sequences, (s, r) => r * L + s.length - 1)
  return { R, L, ids, positions, last }
}
