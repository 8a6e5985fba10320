import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { activateWasm } from '../../../src/worker/backend'
import { installKernels } from '../../../src/worker/kernels'
import { randomTensor, setupTf, testBackend } from '../../helpers/tfjs'

/**
 * The tensor ops Frugal's model, losses and samplers use, on webgpu against wasm, on shapes
 * that take the webgpu package's special programs (long rows, many rows, odd sizes, large
 * gathers, atomics): tfjs-backend-webgpu 4.22 once gave a wrong product on such a shape
 * (kernels/webgpu-matmul.ts), and a wrong op there trains silently. Each case builds its
 * inputs from fixed seeds, so both backends see the same numbers.
 */

type Case = [name: string, run: () => tf.Tensor]

const ids = (n: number, range: number, seed: number) =>
  tf.tensor1d(
    Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % range),
    'int32',
  )

const cases: Case[] = [
  ['sum of long rows', () => tf.sum(randomTensor([4, 49_152], 1), -1)],
  ['sum of one very long row', () => tf.sum(randomTensor([1, 200_003], 2), -1)],
  ['sum down the columns', () => tf.sum(randomTensor([5000, 64], 3), 0)],
  ['sum of many short rows', () => tf.sum(randomTensor([30_000, 7], 4), -1)],
  [
    'max and mean of long rows',
    () =>
      tf.stack([
        tf.max(randomTensor([8, 49_152], 5), -1),
        tf.mean(randomTensor([8, 49_152], 6), -1),
      ]),
  ],
  ['softmax over a vocabulary', () => tf.softmax(randomTensor([64, 49_152], 7, 3))],
  ['logSoftmax over a vocabulary', () => tf.logSoftmax(randomTensor([16, 32_000], 8, 3))],
  ['logSumExp of long rows', () => tf.logSumExp(randomTensor([16, 49_152], 9, 3), -1)],
  ['transpose of a weight', () => tf.transpose(randomTensor([576, 1536], 10))],
  ['transpose of odd sizes', () => tf.transpose(randomTensor([3, 5, 7, 11], 11), [2, 0, 3, 1])],
  ['transpose of heads', () => tf.transpose(randomTensor([2, 128, 9, 64], 12), [0, 2, 1, 3])],
  [
    'gather rows of an embedding',
    () => tf.gather(randomTensor([49_152, 64], 13), ids(1000, 49_152, 1)),
  ],
  [
    'unsortedSegmentSum into rows',
    () => tf.unsortedSegmentSum(randomTensor([20_000, 64], 14), ids(20_000, 500, 2), 500),
  ],
  ['topk of router scores', () => tf.topk(randomTensor([2048, 64], 15), 2).values],
  [
    'topk of router scores: indices',
    () => tf.cast(tf.topk(randomTensor([2048, 64], 15), 2).indices, 'float32'),
  ],
  ['topk over a vocabulary', () => tf.topk(randomTensor([4, 49_152], 16), 50).values],
  ['cumsum over a vocabulary', () => tf.cumsum(tf.softmax(randomTensor([4, 49_152], 17, 3)), 1)],
  [
    'batched products of attention',
    () => tf.matMul(randomTensor([18, 128, 64], 18), randomTensor([18, 128, 64], 19), false, true),
  ],
  [
    'batched products, transposed a',
    () => tf.matMul(randomTensor([18, 128, 64], 20), randomTensor([18, 128, 64], 21), true, false),
  ],
  [
    'a broadcast row add and column scale',
    () =>
      tf.mul(
        tf.add(randomTensor([4096, 576], 22), randomTensor([576], 23)),
        randomTensor([4096, 1], 24),
      ),
  ],
  ['oneHot of targets', () => tf.oneHot(ids(512, 4096, 3), 4096)],
  [
    'where, sign and clip',
    () => {
      const x = randomTensor([100_001], 25, 5)
      return tf.where(tf.greater(x, 0.5), tf.sign(x), tf.clipByValue(x, -1, 1))
    },
  ],
  [
    'concat and slice',
    () =>
      tf.slice(
        tf.concat([randomTensor([300, 77], 26), randomTensor([300, 51], 27)], 1),
        [7, 30],
        [250, 90],
      ),
  ],
  // Split-K with b transposed: a head's input gradient on a short batch.
  [
    "a short batch's head gradient",
    () => tf.matMul(randomTensor([64, 4096], 29), randomTensor([64, 4096], 30), false, true),
  ],
  ['tile', () => tf.tile(randomTensor([1, 128, 64], 28), [36, 1, 1])],
]

describe.runIf(testBackend === 'webgpu')('tensor ops on webgpu, against wasm', () => {
  const onGpu = new Map<string, Float32Array>()
  const onWasm = new Map<string, Float32Array>()

  const ranOn: string[] = []

  beforeAll(async () => {
    await setupTf()
    ranOn.push(tf.getBackend())
    for (const [name, run] of cases) {
      const t = run()
      onGpu.set(name, (await t.data()) as Float32Array)
      t.dispose()
    }
    await activateWasm()
    installKernels(tf)
    ranOn.push(tf.getBackend())
    for (const [name, run] of cases) {
      const t = run()
      onWasm.set(name, (await t.data()) as Float32Array)
      t.dispose()
    }
  })

  afterAll(async () => {
    await tf.setBackend('webgpu')
  })

  it('compares two backends', () => {
    expect(ranOn).toEqual(['webgpu', 'wasm'])
  })

  it.each(cases.map(([name]) => name))('%s', (name) => {
    const gpu = onGpu.get(name)!
    const cpu = onWasm.get(name)!
    expect(gpu.length).toBe(cpu.length)
    const scale = cpu.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6)
    let worst = 0
    for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(gpu[i] - cpu[i]))
    // Float sums in another order: relative to the largest value.
    expect(worst / scale).toBeLessThan(1e-4)
  })
})
