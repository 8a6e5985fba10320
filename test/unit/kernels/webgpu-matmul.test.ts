import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { randomTensor, setupTf, testBackend } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

describe.runIf(testBackend === 'webgpu')('matmul on webgpu (kernels/webgpu-matmul.ts)', () => {
  // (M, N, K) taking each of the backend's programs: split-K (a small output over a long
  // inner dimension: a head's dx on a short batch, a rank-8 adapter's product over 2,048
  // tokens), reduce (a tiny output), small-output tiles, and the packed tiles.
  it.each([
    [64, 64, 4096],
    [256, 8, 2048],
    [8, 256, 2048],
    [64, 64, 4095],
    [8, 8, 4096],
    [64, 128, 512],
    [512, 256, 256],
  ])('gives a·b for every transpose flag (M %i, N %i, K %i)', async (M, N, K) => {
    const a = randomTensor([M, K], 1)
    const b = randomTensor([K, N], 2)
    const at = tf.transpose(a)
    const bt = tf.transpose(b)
    const want = (await tf.matMul(a, b).data()) as Float32Array
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    for (const [x, y, ta, tb] of [
      [at, b, true, false],
      [a, bt, false, true],
      [at, bt, true, true],
    ] as const) {
      const got = (await tf.matMul(x, y, ta, tb).data()) as Float32Array
      const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0)
      expect(worst / scale, `transposeA ${ta}, transposeB ${tb}`).toBeLessThan(1e-5)
    }
    tf.dispose([a, b, at, bt])
  })
})
