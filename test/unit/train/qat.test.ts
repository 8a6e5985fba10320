import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { quantizeRows, dequantizeRows } from '../../../src/worker/export/quantize'
import { fakeQuantActivation, fakeQuantWeight, qatNumerics } from '../../../src/worker/train/qat'
import { setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

/** (rows, cols) row-major → its transpose. */
const transpose = (v: Float32Array, rows: number, cols: number) => {
  const t = new Float32Array(v.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c]
  return t
}

describe('quantization-aware training', () => {
  it('fake-quantizes a weight per output channel exactly as the int8 export does', () => {
    const inDim = 5
    const outDim = 3
    const w = Float32Array.from(
      { length: inDim * outDim },
      (_, i) => Math.sin(i * 1.7) * (1 + (i % 3)),
    )
    const fq = fakeQuantWeight(tf.tensor2d(w, [inDim, outDim])).dataSync()
    // Export stores [out, in] rows with a scale per row (an output channel).
    const rows = transpose(w, inDim, outDim)
    const expected = transpose(
      dequantizeRows(quantizeRows(rows, outDim, inDim), outDim, inDim),
      outDim,
      inDim,
    )
    for (let i = 0; i < w.length; i++) expect(fq[i]).toBeCloseTo(expected[i], 6)
    // At most 255 distinct values per column, and the column's max is kept exactly.
    for (let c = 0; c < outDim; c++) {
      const col = Array.from({ length: inDim }, (_, r) => w[r * outDim + c])
      const q = Array.from({ length: inDim }, (_, r) => fq[r * outDim + c])
      const m = col.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a))
      expect(q[col.indexOf(m)]).toBeCloseTo(m, 6)
    }
  })

  it('passes gradients straight through the rounding', () => {
    const w = tf.tensor2d([0.31, -0.7, 0.05, 1.2, -0.002, 0.4], [3, 2])
    const x = tf.tensor2d([1, 2, -1, 0.5, 0.25, 3], [2, 3])
    const dy = tf.tensor2d([1, -2, 0.5, 3], [2, 2])
    // Straight through: the gradient reaching fq(w) goes to w unchanged, so dL/dw is
    // fq(x)ᵀ·dy, the matmul's own gradient with respect to its (rounded) right operand.
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(dy, tf.matMul(fakeQuantActivation(a), fakeQuantWeight(b as tf.Tensor2D)))),
    )([x, w])
    const qx = fakeQuantActivation(x)
    const qw = fakeQuantWeight(w)
    expect([...gw.dataSync()]).toEqual([...tf.matMul(qx, dy, true, false).dataSync()])
    expect([...gx.dataSync()]).toEqual([...tf.matMul(dy, qw, false, true).dataSync()])
  })

  it('per-tensor activations: 255 levels over the batch range; attention products untouched', () => {
    const a = tf.tensor1d(Array.from({ length: 1000 }, (_, i) => Math.cos(i) * 3))
    const q = fakeQuantActivation(a).dataSync()
    const step = 3 / 127
    const levels = new Set(Array.from(q, (v) => Math.round(v / step)))
    expect(levels.size).toBeLessThanOrEqual(255)
    const raw = a.dataSync()
    for (let i = 0; i < raw.length; i++)
      expect(Math.abs(q[i] - raw[i])).toBeLessThanOrEqual(step / 2 + 1e-6)
    // A rank-4 right operand (q·kᵀ, probs·v) goes to the inner numerics unchanged.
    const seen: number[] = []
    const numerics = qatNumerics(
      {
        matmul: (x, y) => {
          seen.push(y.rank)
          return tf.matMul(x, y)
        },
      },
      'dynamic',
    )
    const q4 = tf.randomNormal([1, 2, 3, 4])
    const k4 = tf.randomNormal([1, 2, 4, 3])
    expect([...numerics.matmul(q4, k4).dataSync()]).toEqual([...tf.matMul(q4, k4).dataSync()])
    expect(seen).toEqual([4])
  })
})
