import * as tf from '@tensorflow/tfjs-core'

/**
 * A frozen weight held as 8-bit integers in host memory, outside the backend: LoRA's
 * `int8Base`. Symmetric, one scale per output column (weights are stored (in, out), so a
 * column is an output channel): w ≈ q · s_col with q in [−127, 127], s_col = max|w_col| / 127.
 * tfjs has no 8-bit dtype, so the bytes stay on the host and `expand` makes the float32
 * tensor a product needs, for as long as it needs it: the backend never holds them all.
 *   values: (in·out) or, stacked for experts, (E·in·out);  scales: (out) or (E·out)
 */
export interface Int8Weight {
  readonly kind: 'int8'
  /** (in, out), or (E, in, out) for a stack of experts. */
  readonly shape: readonly number[]
  readonly values: Int8Array
  readonly scales: Float32Array
}

export const isInt8Weight = (w: unknown): w is Int8Weight =>
  typeof w === 'object' && w !== null && (w as { kind?: unknown }).kind === 'int8'

/** Rows and columns of one matrix of the weight, and how many matrices it stacks. */
function layout(shape: readonly number[]): { stack: number; rows: number; cols: number } {
  const cols = shape[shape.length - 1]
  const rows = shape[shape.length - 2]
  return { stack: shape.length === 3 ? shape[0] : 1, rows, cols }
}

/** Round a float32 weight (in, out) to int8 per output column. */
export function quantizeWeight(values: Float32Array, shape: readonly number[]): Int8Weight {
  const { stack, rows, cols } = layout(shape)
  if (values.length !== stack * rows * cols)
    throw new Error(`int8: ${values.length} values for a weight of shape [${shape.join(', ')}].`)
  const q = new Int8Array(values.length)
  const scales = new Float32Array(stack * cols)
  for (let e = 0; e < stack; e++) {
    const at = e * rows * cols
    const max = new Float32Array(cols)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) max[c] = Math.max(max[c], Math.abs(values[at + r * cols + c]))
    // Rounding reads each scale back from its Float32Array: the value expanding multiplies by.
    for (let c = 0; c < cols; c++) scales[e * cols + c] = max[c] > 0 ? max[c] / 127 : 1
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const i = at + r * cols + c
        q[i] = Math.round(values[i] / scales[e * cols + c])
      }
  }
  return { kind: 'int8', shape: [...shape], values: q, scales }
}

/** The float32 values the int8 weight stands for: q · s per column. */
export function dequantizeWeight(w: Int8Weight): Float32Array {
  const { stack, rows, cols } = layout(w.shape)
  const out = new Float32Array(w.values.length)
  for (let e = 0; e < stack; e++)
    for (let r = 0; r < rows; r++) {
      const at = (e * rows + r) * cols
      for (let c = 0; c < cols; c++) out[at + c] = w.values[at + c] * w.scales[e * cols + c]
    }
  return out
}

/** The weight as a float32 tensor of its shape, for one use: the caller disposes it. */
export function expand(w: Int8Weight): tf.Tensor {
  return tf.tensor(dequantizeWeight(w), [...w.shape], 'float32')
}

/** A float32 weight as int8 would hold it (what a merge of an int8-based LoRA run starts from). */
export const roundedWeight = (values: Float32Array, shape: readonly number[]): Float32Array =>
  dequantizeWeight(quantizeWeight(values, shape))

/** Experts' int8 weights (in, out) each, as one (E, in, out) stack. */
export function stackInt8(ws: readonly Int8Weight[]): Int8Weight {
  const [rows, cols] = ws[0].shape
  const values = new Int8Array(ws.length * rows * cols)
  const scales = new Float32Array(ws.length * cols)
  ws.forEach((w, e) => {
    if (w.shape.length !== 2 || w.shape[0] !== rows || w.shape[1] !== cols)
      throw new Error('int8: experts of one stack must have one shape.')
    values.set(w.values, e * rows * cols)
    scales.set(w.scales, e * cols)
  })
  return { kind: 'int8', shape: [ws.length, rows, cols], values, scales }
}
