import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { crossEntropy } from '../../../src/worker/model/loss'
import { customGradient } from '../../../src/worker/model/ops'
import { numericsFor } from '../../../src/worker/train/precision'
import { randomTensor, setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

/** x unchanged; its gradient records how many bytes of tensors are alive when it runs. */
function probe(x: tf.Tensor2D, seen: number[]): tf.Tensor2D {
  const op = customGradient<tf.Tensor2D>(([t]) => ({
    value: tf.clone(t) as tf.Tensor2D,
    gradFunc: (dy) => {
      seen.push(tf.memory().numBytes)
      return [dy]
    },
  }))
  return op(x)
}

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
