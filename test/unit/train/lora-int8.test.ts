import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigSchema, type ModelConfig } from '../../../src/worker/model/config'
import {
  adaptedWeights,
  adapterCounts,
  adapterScale,
  adapterSpecs,
  frozenBase,
  isAdapterName,
  mergeAdapters,
  type LoraConfig,
} from '../../../src/worker/model/lora'
import { float32Numerics, Transformer, type Params } from '../../../src/worker/model/model'
import { initialValues, paramSpecs } from '../../../src/worker/model/params'
import { linear } from '../../../src/worker/model/layers/linear'
import { quantizeWeight, type Int8Weight } from '../../../src/worker/model/layers/int8-weight'
import { Rng } from '../../../src/shared/rng'
import { loraConfigSchema } from '../../../src/shared/config/train'
import { memoryEstimate } from '../../../src/shared/estimate'
import { trainConfigSchema } from '../../../src/worker/train/config'
import { numericsFor } from '../../../src/worker/train/precision'
import { Trainer } from '../../../src/worker/train/trainer'
import { setupTf, testBackend } from '../../helpers/tfjs'
import { loraDense, loraMoe, maxDiff } from '../../helpers/lora-models'

beforeAll(async () => {
  await setupTf()
})

const dense = loraDense
const moeModel = loraMoe

const int8Lora = loraConfigSchema.parse({
  rank: 4,
  alpha: 8,
  targets: ['attention', 'mlp', 'experts'],
  int8Base: true,
})

const shapeOf = (c: ModelConfig) => new Map(paramSpecs(c).map((s) => [s.name, s.shape]))

/** The model's tensors but for the adapted weights, and those in int8, as a LoRA run holds them. */
function int8Model(c: ModelConfig, lora: LoraConfig, values: Map<string, Float32Array>) {
  const adapted = new Set(adaptedWeights(c, lora.targets))
  const shapes = shapeOf(c)
  const int8Bases = new Map<string, Int8Weight>()
  const P: Params = {}
  for (const s of [...paramSpecs(c), ...adapterSpecs(c, lora)]) {
    const v = values.get(s.name)!
    if (adapted.has(s.name)) int8Bases.set(s.name, quantizeWeight(v, shapes.get(s.name)!))
    else P[s.name] = tf.tensor(v, s.shape)
  }
  const model = new Transformer(c, { scale: adapterScale(lora), dropout: 0, int8Bases })
  return { model, P }
}

function plainModel(c: ModelConfig, lora: LoraConfig | null, values: Map<string, Float32Array>) {
  const specs = [...paramSpecs(c), ...(lora ? adapterSpecs(c, lora) : [])]
  const P: Params = Object.fromEntries(
    specs.map((s) => [s.name, tf.tensor(values.get(s.name)!, s.shape)]),
  )
  const model = new Transformer(c, lora ? { scale: adapterScale(lora), dropout: 0 } : null)
  return { model, P }
}

async function logits({ model, P }: { model: Transformer; P: Params }, B: number, T: number) {
  const rng = new Rng(7)
  const x = tf.tensor1d(
    Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 12)),
    'int32',
  )
  const out = await model.forwardAsync(P, x, B, T)
  const values = (await out.logits.data()) as Float32Array
  tf.dispose([x, out.logits, ...(out.aux ? [out.aux] : [])])
  return values
}

const release = (m: { model: Transformer; P: Params }) => {
  tf.dispose(Object.values(m.P))
  m.model.dispose()
}

describe('LoRA over a base held in int8', () => {
  it('rounds each output column to within half its step, and nothing else', () => {
    const rng = new Rng(5)
    const shape = [24, 10]
    const values = rng.normalArray(240, 1)
    // A column with a large value keeps its own scale; an all-zero column stays zero.
    values[3] = 40
    for (let r = 0; r < 24; r++) values[r * 10 + 7] = 0
    const w = quantizeWeight(values, shape)
    const rounded = frozenBase(
      dense,
      { targets: [], int8Base: true },
      new Map([['x', values]]),
    ).get('x')!
    expect(rounded).toBe(values) // a weight no adapter targets is left alone
    for (let col = 0; col < 10; col++) {
      let max = 0
      for (let r = 0; r < 24; r++) max = Math.max(max, Math.abs(values[r * 10 + col]))
      expect(w.scales[col]).toBeCloseTo(max > 0 ? max / 127 : 1, 6)
      for (let r = 0; r < 24; r++) {
        const back = w.values[r * 10 + col] * w.scales[col]
        expect(Math.abs(back - values[r * 10 + col])).toBeLessThanOrEqual(w.scales[col] / 2 + 1e-6)
      }
    }
    expect(Array.from(w.values).every((q) => q >= -127 && q <= 127)).toBe(true)
  })

  it.each([
    ['dense', dense],
    ['routed experts', moeModel(null)],
    ['stacked experts', moeModel(1.5)],
  ] as const)(
    'gives the logits of a float32 base of the rounded values, and its merge gives them too (%s)',
    async (_, c) => {
      const rng = new Rng(3)
      const base = initialValues(c, rng)
      const adapters = new Map<string, Float32Array>()
      for (const s of adapterSpecs(c, int8Lora))
        adapters.set(s.name, rng.normalArray(s.shape[0] * s.shape[1], 0.3))
      const int8 = int8Model(c, int8Lora, new Map([...base, ...adapters]))
      const rounded = plainModel(
        c,
        int8Lora,
        new Map([...frozenBase(c, int8Lora, base), ...adapters]),
      )
      const merged = plainModel(c, null, mergeAdapters(c, int8Lora, base, adapters))
      const fp32 = plainModel(c, int8Lora, new Map([...base, ...adapters]))
      const got = await logits(int8, 2, 16)
      // The same float32 values through the same operations.
      expect(maxDiff(got, await logits(rounded, 2, 16))).toBeLessThan(1e-6)
      expect(maxDiff(got, await logits(merged, 2, 16))).toBeLessThan(2e-4)
      // Rounding moves the model a little, not a lot.
      const off = maxDiff(got, await logits(fp32, 2, 16))
      expect(off).toBeGreaterThan(0)
      expect(off).toBeLessThan(0.1)
      for (const m of [int8, rounded, merged, fp32]) release(m)
    },
  )

  it.each([
    ['a matrix', float32Numerics, [6, 5]],
    ['a matrix, bf16 emulated', numericsFor('bf16'), [6, 5]],
    ['a stack of experts', float32Numerics, [3, 4, 5]],
  ] as const)(
    "an adapted product over int8 has the float32 base's value and gradients, dropout included (%s)",
    async (_, numerics, xShape) => {
      const lead = xShape.length === 3 ? [xShape[0]] : []
      const rng = new Rng(9)
      const t = (shape: number[]) =>
        tf.tensor(
          rng.normalArray(
            shape.reduce((a, b) => a * b, 1),
            1,
          ),
          shape,
        )
      const x = t([...xShape])
      const wShape = [...lead, 5, 7]
      const q = quantizeWeight(
        rng.normalArray(
          wShape.reduce((a, b) => a * b, 1),
          1,
        ),
        wShape,
      )
      const baseTensor = tf.tensor(
        Float32Array.from(q.values, (v, i) => v * q.scales[Math.floor(i / 35) * 7 + (i % 7)]),
        wShape,
      )
      const a = t([...lead, 5, 2])
      const b = t([...lead, 2, 7])
      const dropout = { rate: 0.3, seed: 11 }
      const run = (base: tf.Tensor | Int8Weight) =>
        tf.grads((xx, aa, bb) =>
          tf.sum(tf.square(linear(xx, { base, a: aa, b: bb, scale: 1.5, dropout }, numerics))),
        )([x, a, b])
      const fromInt8 = run(q)
      const fromFloat = run(baseTensor)
      for (let i = 0; i < 3; i++)
        expect(
          maxDiff(
            (await fromInt8[i].data()) as Float32Array,
            (await fromFloat[i].data()) as Float32Array,
          ),
        ).toBeLessThan(1e-5)
      tf.dispose([x, a, b, baseTensor, ...fromInt8, ...fromFloat])
    },
  )

  it('keeps the adapted weights out of the backend, trains, and checkpoints and resumes like any LoRA run', async () => {
    const phrase = (p: number[], n: number) =>
      Uint16Array.from({ length: n }, (_, i) => p[i % p.length])
    const second = [11, 9, 7, 5, 3, 1, 2, 4, 6, 8, 10, 3]
    const data = { train: phrase(second, 3000), val: phrase(second, 600), vocabSize: 12 }
    const base = initialValues(dense, new Rng(1))
    const config = (int8Base: boolean) =>
      trainConfigSchema.parse({
        steps: 60,
        batchSize: 4,
        learningRate: 1e-2,
        warmupSteps: 5,
        evalBatches: 4,
        threads: 1,
        lora: { rank: 4, alpha: 8, targets: ['attention', 'mlp'], int8Base },
      })
    const held = async (int8Base: boolean) => {
      const before = tf.memory().numBytes
      const t = await Trainer.create(dense, config(int8Base), data, { initialWeights: base })
      return { t, bytes: tf.memory().numBytes - before }
    }
    const fp32 = await held(false)
    for (let i = 0; i < 60; i++) await fp32.t.trainStep()
    const fp32After = await fp32.t.evaluate()
    await fp32.t.dispose()
    const { t, bytes } = await held(true)
    // What the backend no longer holds: every adapted weight's float32 values.
    const { adapted } = adapterCounts(dense, config(true).lora!)
    expect(fp32.bytes - bytes).toBe(4 * adapted)
    for (const name of adaptedWeights(dense, ['attention', 'mlp']))
      expect(t.params.has(name)).toBe(false)

    const before = await t.evaluate()
    for (let i = 0; i < 30; i++) await t.trainStep()
    const state = await t.state()
    for (let i = 0; i < 30; i++) await t.trainStep()
    const after = await t.evaluate()
    // It learns as the float32-based run does (a random base: the adapters alone move it).
    expect(after).toBeLessThan(before * 0.9)
    expect(Math.abs(after - fp32After)).toBeLessThan(0.05 * fp32After)
    const saved = [...state.tensors.keys()].filter((k) => k.startsWith('param/'))
    expect(saved.every((k) => isAdapterName(k.slice(6)))).toBe(true)
    const resumed = await Trainer.create(dense, config(true), data, {
      initialWeights: base,
      resume: state,
    })
    for (let i = 0; i < 30; i++) await resumed.trainStep()
    expect(Math.abs((await resumed.evaluate()) - after)).toBeLessThan(
      testBackend === 'webgpu' ? 1e-4 : 1e-6,
    )
    await resumed.dispose()
    await t.dispose()
  })

  it('the run estimate moves the adapted weights to the host at a byte each', () => {
    const c = modelConfigSchema.parse({
      vocabSize: 4096,
      contextLength: 128,
      layers: 6,
      heads: 6,
      width: 384,
    })
    const train = (int8Base: boolean) =>
      trainConfigSchema.parse({
        batchSize: 4,
        lora: { rank: 8, targets: ['attention', 'mlp'], int8Base },
      })
    const fp32 = memoryEstimate(c, train(false), 1)
    const int8 = memoryEstimate(c, train(true), 1)
    const { adapted, adapters } = adapterCounts(c, train(true).lora!)
    expect(fp32.trained).toBe(adapters)
    expect(fp32.optimizer).toBe(8 * adapters)
    expect(fp32.weights - int8.weights).toBe(4 * adapted)
    expect(int8.int8Weights).toBe(adapted)
    expect(int8.perThread).toBeLessThan(fp32.perThread - 3 * adapted)
  })
})
