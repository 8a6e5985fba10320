import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { ownedVariable } from '../../../src/worker/model/ops'
import { AdamW } from '../../../src/worker/train/optimizer'
import { randomTensor, setupTf, testBackend } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

const options = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 }

/** Two parameters with known values and gradients, fresh for each case. */
function setup() {
  const params = new Map([
    ['w', ownedVariable(randomTensor([16, 8], 1), true)],
    ['b', ownedVariable(randomTensor([8], 2), true)],
  ])
  const grads = new Map([
    ['w', randomTensor([16, 8], 3)],
    ['b', randomTensor([8], 4)],
  ])
  return { params, grads, optimizer: new AdamW(params, new Set(['w']), options) }
}

/** AdamW's first step from zero moments, written out: m̂ = g, v̂ = g², so the step is lr·(g/(|g|+ε) + λp). */
function expectedFirstStep(p: ArrayLike<number>, g: ArrayLike<number>, lr: number, decay: number) {
  return Array.from(p, (pi, i) => pi - lr * (g[i] / (Math.abs(g[i]) + options.eps) + decay * pi))
}

describe('AdamW and tensors that share memory', () => {
  // Reads are asynchronous so the suite runs on webgpu too (no synchronous reads there).
  const read = async (t: tf.Tensor) => Array.from(await t.data())

  it('a copy of a parameter taken before a step keeps its values; the parameter moves', async () => {
    const { params, grads, optimizer } = setup()
    const before = await read(params.get('w')!)
    const bBefore = await read(params.get('b')!)
    const copy = tf.clone(params.get('w')!)
    const reshaped = tf.reshape(params.get('b')!, [2, 4])
    optimizer.step(params, grads, 0.01, 1)
    expect(await read(copy)).toEqual(before)
    expect(await read(reshaped)).toEqual(bBefore)
    const want = expectedFirstStep(before, await read(grads.get('w')!), 0.01, 0.1)
    const got = await read(params.get('w')!)
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5)
    tf.dispose([copy, reshaped, ...params.values(), ...grads.values()])
    optimizer.dispose()
  })

  it('gives the same numbers whether a parameter is shared or not', async () => {
    const a = setup()
    const b = setup()
    const held = tf.clone(b.params.get('w')!) // b's w takes the path that writes new memory
    for (let s = 0; s < 3; s++) {
      a.optimizer.step(a.params, a.grads, 0.01, 0.5)
      b.optimizer.step(b.params, b.grads, 0.01, 0.5)
    }
    for (const name of ['w', 'b']) {
      const x = await read(a.params.get(name)!)
      const y = await read(b.params.get(name)!)
      for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(x[i], 6)
    }
    tf.dispose([held, ...a.params.values(), ...b.params.values()])
  })

  it.runIf(testBackend === 'wasm')(
    'on wasm a clone and a same-dtype cast cost no new buffer and outlives its source with the values it had',
    () => {
      const x = randomTensor([256, 64], 5)
      const values = x.dataSync().slice()
      const buffers = tf.memory().numDataBuffers
      const y = tf.clone(x)
      const z = tf.cast(x, 'float32')
      expect(tf.memory().numDataBuffers).toBe(buffers) // shared, not copied
      x.dispose()
      expect(Array.from(y.dataSync())).toEqual(Array.from(values))
      y.dispose()
      expect(Array.from(z.dataSync())).toEqual(Array.from(values))
      z.dispose()
    },
  )
})
