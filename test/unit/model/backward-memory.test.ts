import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { crossEntropy } from '../../../src/worker/model/loss'
import { applyRope, ropeTables, tileRope } from '../../../src/worker/model/layers/rope'
import { residual } from '../../../src/worker/model/ops'
import { gradientsOf } from '../../../src/worker/train/backprop'
import { numericsFor } from '../../../src/worker/train/precision'
import { probe, randomTensor, setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

describe('the backward pass', () => {
  it("frees a custom gradient's temporaries before the next gradient runs", () => {
    // The loss's backward (on CPU backends, composed of tensor ops) makes several (N, V)
    // temporaries: a one-hot target, the difference, the scaled gradient.
    const [N, V] = [256, 4096]
    const rowsBytes = N * V * 4
    const logits = randomTensor([N, V], 1) as tf.Tensor2D
    const targets = tf.tensor1d(
      Array.from({ length: N }, (_, i) => (i * 7919) % V),
      'int32',
    )
    const seen: number[] = []
    const before = tf.memory().numBytes
    const grad = tf.grad((z: tf.Tensor) =>
      crossEntropy(probe(z as tf.Tensor2D, seen), targets, 0.1),
    )(logits)
    // When the probe's gradient runs, the loss's backward is over: what it made besides its
    // result must be gone (measured: two (N, V) tensors alive then, against six before the
    // backward freed them).
    expect(seen).toHaveLength(1)
    expect(seen[0] - before).toBeLessThan(3 * rowsBytes)
    expect(grad.shape).toEqual([N, V])
    tf.dispose([grad, logits, targets])
  })

  it('keeps nothing of what a rotary embedding and a residual connection read', async () => {
    // Both are linear: their backward needs the rotation tables (constants) and nothing of
    // the activations. Composed of tfjs ops, they kept the input, its rotation, both terms
    // and the residual's two inputs.
    const [B, T, H, hs] = [2, 128, 4, 32]
    const [N, D] = [B * T, H * hs]
    const unit = N * D * 4
    const tables = tileRope(ropeTables(T, H, hs, 1e4), B)
    const x = randomTensor([N, D], 4) as tf.Tensor2D
    const dy = randomTensor([N, D], 5)
    const ours = (t: tf.Tensor2D) => residual(t, applyRope(t, tables, hs))
    const composed = (t: tf.Tensor2D) => {
      const rotated = tf.reshape(tf.matMul(tf.reshape(t, [-1, hs]), tables.rot), [N, D])
      return tf.add(t, tf.add(tf.mul(t, tables.cos), tf.mul(rotated, tables.sin)))
    }
    /** Bytes alive when the backward reaches the output (the training path's backward). */
    const measure = async (block: (t: tf.Tensor2D) => tf.Tensor) => {
      const seen: number[] = []
      const before = tf.memory().numBytes
      const [grad] = gradientsOf((t) =>
        tf.sum(tf.mul(probe(block(t as tf.Tensor2D) as tf.Tensor2D, seen), dy)),
      )([x])
      const values = await grad.data()
      grad.dispose()
      expect(seen).toHaveLength(1)
      return { held: seen[0] - before, values }
    }
    const a = await measure(ours)
    const b = await measure(composed)
    // Measured: the composed pair held 9 activations' bytes more (wasm and webgpu).
    expect(b.held - a.held).toBeGreaterThanOrEqual(8 * unit)
    // The same gradient: dy plus the transposed rotation of dy.
    let worst = 0
    for (let i = 0; i < a.values.length; i++)
      worst = Math.max(worst, Math.abs(a.values[i] - b.values[i]))
    expect(worst).toBeLessThan(1e-5)
    tf.dispose([x, dy, tables.cos, tables.sin, tables.rot])
  })

  it("frees a 16-bit product's rounded copies before the next gradient runs", () => {
    // bf16's backward rounds the output gradient, and the weight again, and on webgpu
    // unpacks the 16-bit activation: each a float32 copy as large as what it copies.
    const [N, D] = [512, 1024]
    const x = randomTensor([N, D], 2) as tf.Tensor2D
    const w = randomTensor([D, D], 3, 0.03)
    const bf16 = numericsFor('bf16')
    const seen: number[] = []
    const before = tf.memory().numBytes
    const grad = tf.grad((t: tf.Tensor) => tf.sum(bf16.matmul(probe(t as tf.Tensor2D, seen), w)))(x)
    // When the probe's gradient runs, alive are the forward's tensors, what the product
    // saved, its gradients and the sum's: measured 9 activations' bytes on wasm and 8.5 on
    // webgpu, against 13 and 15.5 while the rounded copies stayed to the end.
    const unit = N * D * 4 // one activation's float32 bytes; the weight's are twice that
    expect(seen).toHaveLength(1)
    expect(seen[0] - before).toBeLessThan(10 * unit)
    tf.dispose([grad, x, w])
  })
})
