import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { crossEntropy } from '../../../src/worker/model/loss'
import { linear } from '../../../src/worker/model/layers/linear'
import { applyRope, ropeTables, tileRope } from '../../../src/worker/model/layers/rope'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { float32Numerics, Transformer } from '../../../src/worker/model/model'
import { names } from '../../../src/worker/model/params'
import { ownedVariable, residual } from '../../../src/worker/model/ops'
import { gradientsOf } from '../../../src/worker/train/backprop'
import { numericsFor } from '../../../src/worker/train/precision'
import { bufferBytes, probe, randomTensor, setupTf } from '../../helpers/tfjs'

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

  it.each(['fp32', 'bf16'] as const)(
    "keeps nothing of a frozen weight's input, and gives its input the same gradient (%s)",
    async (precision) => {
      // A LoRA run's base weights without an adapter: dx = dy·Wᵀ needs W alone; x is
      // kept only for W's gradient, which nobody takes.
      const [N, D, H] = [256, 128, 512]
      const unit = N * H * 4 // the product's input, (N, H) float32
      const numerics = precision === 'fp32' ? float32Numerics : numericsFor(precision)
      const x = randomTensor([N, H], 6) as tf.Tensor2D
      const dy = randomTensor([N, D], 7)
      const frozen = ownedVariable(randomTensor([H, D], 8, 0.05), false)
      // The same values as a plain tensor: the product as any weight's.
      const plain = tf.clone(frozen)
      const measure = async (w: tf.Tensor) => {
        const seen: number[] = []
        const before = tf.memory().numBytes
        const [grad] = gradientsOf((t) =>
          // tanh: an input made inside the pass, as a layer's is, so only a save keeps it.
          tf.sum(tf.mul(probe(linear(tf.tanh(t), w, numerics) as tf.Tensor2D, seen), dy)),
        )([x])
        const values = await grad.data()
        grad.dispose()
        expect(seen).toHaveLength(1)
        return { held: seen[0] - before, values }
      }
      const a = await measure(frozen)
      const b = await measure(plain)
      // Measured: one input's bytes fewer (fp32, and bf16 on wasm, which kept a rounded
      // float32 copy), half of them on webgpu's bf16 (which kept it in 16 bits).
      expect(b.held - a.held).toBeGreaterThanOrEqual(unit / 2)
      let worst = 0
      for (let i = 0; i < a.values.length; i++)
        worst = Math.max(worst, Math.abs(a.values[i] - b.values[i]))
      expect(worst).toBe(0)
      tf.dispose([x, dy, frozen, plain])
    },
  )

  it.each(['fp32', 'bf16'] as const)(
    "keeps no transposed copy of a frozen tied embedding for the head's backward (%s)",
    async (precision) => {
      const [N, D, V] = [64, 64, 4096]
      const c = modelConfigSchema.parse({
        vocabSize: V,
        contextLength: 16,
        layers: 1,
        heads: 2,
        width: D,
      })
      const model = new Transformer(c)
      const numerics = precision === 'fp32' ? float32Numerics : numericsFor(precision)
      const x = randomTensor([N, D], 9) as tf.Tensor2D
      const dy = randomTensor([N, V], 10)
      const embedding = randomTensor([V, D], 11, 0.05)
      const norm = tf.ones([D])
      // Each buffer once: saving the variable itself (a clone) costs nothing.
      const bytes = bufferBytes()!
      const measure = async (frozen: boolean) => {
        const E = tf.variable(embedding, !frozen)
        const P = { [names.embed]: E, [names.finalNorm]: norm }
        const seen: number[] = []
        const before = bytes()
        const [grad] = gradientsOf((t) =>
          tf.sum(
            tf.mul(probe(model.head(P, tf.tanh(t) as tf.Tensor2D, numerics), seen, bytes), dy),
          ),
        )([x])
        const values = await grad.data()
        tf.dispose([grad, E])
        expect(seen).toHaveLength(1)
        return { held: seen[0] - before, values }
      }
      await measure(true) // webgpu's first pass holds buffers it keeps for later ones
      const a = await measure(true)
      const b = await measure(false)
      // When the backward reaches the logits: the (D, V) copy, held since the forward
      // (measured: that and the head's input fewer on wasm and webgpu).
      expect(b.held - a.held).toBeGreaterThanOrEqual(V * D * 4)
      let worst = 0
      for (let i = 0; i < a.values.length; i++)
        worst = Math.max(worst, Math.abs(a.values[i] - b.values[i]))
      expect(worst).toBeLessThan(1e-5)
      tf.dispose([x, dy, embedding, norm])
      model.dispose()
    },
  )
})
