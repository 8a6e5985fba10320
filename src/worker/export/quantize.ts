/**
 * Weight-only int8 quantization, symmetric, one scale per output channel: each row r of an
 * [out, in] matrix is stored as round(w / s_r) in [-127, 127] with s_r = max|w_r| / 127, and
 * read back as q · s_r. Per-channel scales keep one large row from costing the others
 * their precision; -128 is left unused so the range is symmetric.
 */

export interface QuantizedMatrix {
  values: Int8Array
  /** One per row (output channel). */
  scales: Float32Array
}

export function quantizeRows(values: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const q = new Int8Array(rows * cols)
  const scales = new Float32Array(rows)
  for (let r = 0; r < rows; r++) {
    let max = 0
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(values[r * cols + c]))
    const s = max > 0 ? max / 127 : 1
    scales[r] = s
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.round(values[r * cols + c] / s)
  }
  return { values: q, scales }
}

export function dequantizeRows(m: QuantizedMatrix, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) {
    const s = m.scales[r]
    for (let c = 0; c < cols; c++) out[r * cols + c] = m.values[r * cols + c] * s
  }
  return out
}
