import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { activateWasm, loadBackend } from '../../../src/worker/backend'
import { installKernels } from '../../../src/worker/kernels'
import { modelConfigSchema, type ModelConfigInput } from '../../../src/worker/model/config'
import { trainConfigSchema } from '../../../src/worker/train/config'
import { Trainer } from '../../../src/worker/train/trainer'
import { adamwInPlace } from '../../../src/worker/kernels/webgpu-adamw'
import {
  describeGpuError,
  GpuError,
  throwIfGpuFailed,
  watchDevice,
} from '../../../src/worker/webgpu/device'
import { setupTf, testBackend } from '../../helpers/tfjs'

/**
 * The webgpu backend itself: runs under `npm run test:webgpu` (FRUGAL_TEST_BACKEND=webgpu),
 * on Mesa's llvmpipe in CI. The numerics suites (gradients, trainer, resume, decoder) run
 * there too; this file covers what only webgpu has.
 */
describe.runIf(testBackend === 'webgpu')('webgpu backend', () => {
  beforeAll(async () => {
    await setupTf('webgpu')
  })

  it('describes its adapter: which GPU, its training features and size limits', async () => {
    const { info } = await loadBackend('webgpu')
    expect(info.name).toBe('webgpu')
    expect(info.version).toMatch(/^4\./)
    const gpu = info.gpu!
    expect(gpu.vendor).not.toBe('')
    expect(gpu.description || gpu.device).not.toBe('')
    expect(gpu.limits.maxBufferSize).toBeGreaterThan(2 ** 27)
    expect(gpu.limits.maxStorageBufferBindingSize).toBeGreaterThan(2 ** 26)
    for (const f of gpu.features) expect(['shader-f16', 'timestamp-query']).toContain(f)
    // The status bar's text names the adapter, and says "software" for llvmpipe.
    expect(info.detail).toContain(gpu.description || gpu.device)
    if (gpu.software) expect(info.detail).toContain('software')
  })

  it('sums many tensors (AddN) as the cpu kernel does, past the storage-buffer limit', async () => {
    // 40 inputs: more than any device's storage buffers per shader stage allow in one launch.
    const values = Array.from({ length: 40 }, (_, i) =>
      Float32Array.from({ length: 33 }, (_, j) => Math.sin(i * 7 + j) * (i + 1)),
    )
    const inputs = values.map((v) => tf.tensor1d(v))
    const sum = tf.addN(inputs)
    const got = await sum.data()
    const expected = new Float32Array(33)
    for (const v of values) for (let j = 0; j < 33; j++) expected[j] += v[j]
    for (let j = 0; j < 33; j++) expect(got[j]).toBeCloseTo(expected[j], 3)
    // Its gradient too: each input gets dy.
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(tf.addN(xs), 2)))(inputs)
    expect([...(await grads[39].data())]).toEqual(new Array<number>(33).fill(2))
    throwIfGpuFailed()
    tf.dispose([...inputs, sum, ...grads])
  })

  it('updates many parameters and their moments in place, a few a launch, as the composed AdamW ops do', async () => {
    // Nine parameters of odd sizes (tails are bounds-checked; one past a launch's grid, so
    // its threads loop): more than one launch holds on any device.
    const sizes = [1000, 7, 1, 130, 600_001, 64, 3, 129, 5000]
    const wave = (n: number, k: number, a: number) =>
      Float32Array.from({ length: n }, (_, i) => a * Math.sin(i * k + k))
    const s = {
      beta1: 0.9,
      beta2: 0.95,
      c1: 1 - 0.9 ** 3,
      c2: 1 - 0.95 ** 3,
      eps: 1e-8,
      lr: 3e-3,
      scale: 0.25,
    }
    const cases = sizes.map((n, j) => {
      const values = [
        wave(n, 1 + j, 0.5),
        wave(n, 2 + j, 0.01),
        wave(n, 3 + j, 1e-4).map(Math.abs),
        wave(n, 4 + j, 2),
      ]
      const decay = j % 2 === 0 ? 0.1 : 0
      // The reference: optimizer.ts's composed ops, on this backend.
      const expected = tf.tidy(() => {
        const [p0, m0, v0, g0] = values.map((x) => tf.tensor1d(x))
        const g = tf.mul(g0, s.scale)
        const m = tf.add(tf.mul(m0, s.beta1), tf.mul(g, 1 - s.beta1))
        const v = tf.add(tf.mul(v0, s.beta2), tf.mul(tf.square(g), 1 - s.beta2))
        const update = tf.div(tf.div(m, s.c1), tf.add(tf.sqrt(tf.div(v, s.c2)), s.eps))
        return [tf.sub(p0, tf.mul(tf.add(update, tf.mul(p0, decay)), s.lr)), m, v]
      })
      const [p, m, v, g] = values.map((x) => tf.tensor1d(x))
      return { update: { p, m, v, g, decay }, expected }
    })
    await cases[0].update.p.data() // a host copy the backend caches: the update must not leave it stale
    // Data another tensor shares is left alone, for the composed ops to handle.
    const shared = cases[3].update
    const alias = tf.reshape(shared.p, [2, 65])
    const sharedBefore = (await shared.p.data()).slice()
    const tensors = tf.memory().numTensors
    const left = adamwInPlace(
      cases.map((c) => c.update),
      s,
    )
    expect(left).toEqual([shared])
    expect(tf.memory().numTensors).toBe(tensors) // in place: nothing new
    for (const [j, { update, expected }] of cases.entries()) {
      if (j === 3) continue
      for (const [got, want] of [update.p, update.m, update.v].map((t, i) => [t, expected[i]])) {
        const [a, b] = await Promise.all([got.data(), want.data()])
        for (let i = 0; i < a.length; i++)
          if (Math.abs(a[i] - b[i]) > 1e-6) expect(a[i]).toBeCloseTo(b[i], 6)
      }
    }
    expect(await shared.p.data()).toEqual(sharedBefore)
    throwIfGpuFailed()
    tf.dispose([
      alias,
      ...cases.flatMap((c) => [
        ...Object.values(c.update).filter((x) => x instanceof tf.Tensor),
        ...c.expected,
      ]),
    ])
  })

  it("trains a short dense and MoE run to wasm's losses, within float rounding", async () => {
    const phrase = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 3, 5, 7]
    const train = Uint16Array.from({ length: 3000 }, (_, i) => phrase[i % phrase.length])
    const data = { train, val: train.subarray(0, 500), vocabSize: 12 }
    const models: ModelConfigInput[] = [
      { vocabSize: 12, contextLength: 16, layers: 2, heads: 2, width: 16 },
      {
        vocabSize: 12,
        contextLength: 16,
        layers: 2,
        heads: 2,
        width: 16,
        moe: { routedExperts: 4, topK: 2, firstDenseLayers: 1, balance: 'aux-free' },
      },
    ]
    const config = trainConfigSchema.parse({
      steps: 12,
      batchSize: 4,
      learningRate: 3e-3,
      warmupSteps: 2,
      dropPath: 0.1,
      threads: 1,
    })
    const losses = async (model: ModelConfigInput) => {
      const t = await Trainer.create(modelConfigSchema.parse(model), config, data)
      const out: number[] = []
      for (let i = 0; i < 12; i++) out.push((await t.trainStep()).loss)
      await t.dispose()
      return out
    }
    const onGpu: number[][] = []
    for (const m of models) onGpu.push(await losses(m))
    await activateWasm()
    installKernels(tf)
    try {
      const onWasm: number[][] = []
      for (const m of models) onWasm.push(await losses(m))
      // The same numbers up to the order of float sums: 1e-4 relative over 12 steps.
      onGpu.forEach((run, m) =>
        run.forEach((loss, i) =>
          expect(Math.abs(loss - onWasm[m][i]) / onWasm[m][i], `model ${m} step ${i}`).toBeLessThan(
            1e-4,
          ),
        ),
      )
      // And it learned.
      for (const run of onGpu) expect(run[11]).toBeLessThan(run[0] - 0.2)
    } finally {
      await tf.setBackend('webgpu')
    }
  })

  it('holds its GPU memory steady over a MoE run, whose sizes change every step', async () => {
    const data = {
      train: Uint16Array.from({ length: 20_000 }, (_, i) => (i * 7 + (i % 13)) % 64),
      val: Uint16Array.from({ length: 600 }, (_, i) => i % 64),
      vocabSize: 64,
    }
    const model = modelConfigSchema.parse({
      vocabSize: 64,
      contextLength: 32,
      layers: 2,
      heads: 2,
      width: 32,
      moe: { routedExperts: 8, topK: 2, firstDenseLayers: 1 },
    })
    const t = await Trainer.create(
      model,
      trainConfigSchema.parse({ steps: 40, batchSize: 8 }),
      data,
    )
    const reserved = () =>
      (tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU: number }).numBytesAllocatedInGPU
    for (let i = 0; i < 10; i++) await t.trainStep()
    const early = reserved()
    for (let i = 0; i < 30; i++) await t.trainStep()
    // tfjs's pool alone grew by about half again over such a stretch (kept every size).
    expect(reserved()).toBeLessThan(early * 1.2)
    await t.dispose()
  })

  it('keeps no tensors after a forward and backward pass', async () => {
    const before = tf.memory().numTensors
    const w = tf.tidy(() => tf.variable(tf.randomNormal([16, 16], 0, 1, 'float32', 3)))
    const x = tf.randomNormal([8, 16], 0, 1, 'float32', 4)
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.relu(tf.matMul(x, w))), [w])
    await value.data()
    tf.dispose([value, ...Object.values(grads), x, w])
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('GPU errors, as a run reports them', () => {
  const error = (name: string, message: string) => ({ message, constructor: { name } })

  it('a tensor too big for one buffer is "out of GPU memory", with its size and the limit', () => {
    const e = describeGpuError(
      error(
        'GPUValidationError',
        'Binding size (160000000) of [Buffer (unlabeled)] is larger than the maximum storage buffer binding size (134217728).\n - While validating',
      ),
    )
    expect(e.kind).toBe('out-of-memory')
    expect(e.message).toBe(
      'Out of GPU memory: one tensor needs 153 MB, more than this GPU allows in one buffer (128 MB).',
    )
    expect(
      describeGpuError(
        error(
          'GPUValidationError',
          'Buffer size (8589934592) exceeds the max buffer size limit (4294967295).',
        ),
      ).kind,
    ).toBe('out-of-memory')
    expect(describeGpuError(error('GPUOutOfMemoryError', 'Out of memory')).kind).toBe(
      'out-of-memory',
    )
    expect(describeGpuError(error('GPUValidationError', 'Invalid pipeline')).kind).toBe(
      'validation',
    )
    expect(describeGpuError(error('GPUInternalError', 'Device hung')).message).toMatch(
      /^The GPU driver failed: Device hung/,
    )
  })

  it('a lost device fails the next check with the reason; our own destroy does not', async () => {
    let lose: (info: { reason: string; message: string }) => void = () => undefined
    const listeners: ((e: {
      error: { message: string; constructor: { name: string } }
    }) => void)[] = []
    const fake = {
      lost: new Promise<{ reason: string; message: string }>((resolve) => (lose = resolve)),
      addEventListener: (_: 'uncapturederror', l: (typeof listeners)[number]) => listeners.push(l),
    }
    watchDevice(fake)
    expect(() => throwIfGpuFailed()).not.toThrow()
    lose({ reason: 'unknown', message: 'Device was lost: driver reset' })
    await new Promise((r) => setTimeout(r, 0))
    expect(() => throwIfGpuFailed()).toThrow(GpuError)
    expect(() => throwIfGpuFailed()).toThrow(/The GPU was lost \(Device was lost: driver reset\)/)

    const quiet = { ...fake, lost: Promise.resolve({ reason: 'destroyed', message: '' }) }
    watchDevice(quiet)
    await new Promise((r) => setTimeout(r, 0))
    expect(() => throwIfGpuFailed()).not.toThrow()
    // The first error is the one reported; later ones do not replace it.
    watchDevice({ ...fake, lost: new Promise(() => undefined) })
    listeners.at(-1)!({ error: error('GPUValidationError', 'first') })
    listeners.at(-1)!({ error: error('GPUInternalError', 'second') })
    expect(() => throwIfGpuFailed()).toThrow(/first/)
    watchDevice({ ...fake, lost: new Promise(() => undefined) }) // clean state for what follows
  })
})
