import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ModelConfig } from '../../../src/worker/model/config'
import {
  adaptedWeights,
  adapterNames,
  adapterScale,
  adapterSpecs,
  isAdapterName,
  mergeAdapters,
  type LoraConfig,
} from '../../../src/worker/model/lora'
import { Transformer, type Params } from '../../../src/worker/model/model'
import { ownedVariable } from '../../../src/worker/model/ops'
import { initialValues, names, paramSpecs } from '../../../src/worker/model/params'
import { Rng } from '../../../src/shared/rng'
import { loraConfigSchema } from '../../../src/shared/config/train'
import { trainConfigSchema } from '../../../src/worker/train/config'
import { computeGradients } from '../../../src/worker/train/gradients'
import { float32Numerics } from '../../../src/worker/model/model'
import { linear } from '../../../src/worker/model/layers/linear'
import type { Numerics } from '../../../src/worker/model/numerics'
import { numericsFor } from '../../../src/worker/train/precision'
import { Trainer } from '../../../src/worker/train/trainer'
import { setupTf, testBackend } from '../../helpers/tfjs'
import { loraDense, loraMoe, maxDiff } from '../../helpers/lora-models'

beforeAll(async () => {
  await setupTf()
})

const dense = loraDense
const moeModel = loraMoe

const everything = loraConfigSchema.parse({
  rank: 4,
  alpha: 8,
  targets: ['attention', 'mlp', 'experts'],
})

/** Base weights and adapters whose B is not zero (a trained adapter), as arrays. */
function weightsWithAdapters(c: ModelConfig, lora: LoraConfig, seed: number) {
  const rng = new Rng(seed)
  const base = initialValues(c, rng)
  const adapters = new Map<string, Float32Array>()
  for (const spec of adapterSpecs(c, lora))
    adapters.set(spec.name, rng.normalArray(spec.shape[0] * spec.shape[1], 0.3))
  return { base, adapters }
}

function tensors(
  c: ModelConfig,
  lora: LoraConfig | null,
  values: Map<string, Float32Array>,
): Params {
  const specs = [...paramSpecs(c), ...(lora ? adapterSpecs(c, lora) : [])]
  return Object.fromEntries(specs.map((s) => [s.name, tf.tensor(values.get(s.name)!, s.shape)]))
}

const ids = (n: number, seed: number) => {
  const rng = new Rng(seed)
  return Int32Array.from({ length: n }, () => Math.floor(rng.next() * 12))
}

async function logits(model: Transformer, P: Params, B: number, T: number, seed = 1) {
  const x = tf.tensor1d(ids(B * T, seed), 'int32')
  const out = await model.forwardAsync(P, x, B, T)
  const values = (await out.logits.data()) as Float32Array
  tf.dispose([x, out.logits, ...(out.aux ? [out.aux] : [])])
  return values
}

describe('LoRA adapters', () => {
  it('give exactly the logits of their weights merged: dense, routed experts and stacked experts', async () => {
    for (const c of [dense, moeModel(null), moeModel(1.5)]) {
      const { base, adapters } = weightsWithAdapters(c, everything, 3)
      const P = tensors(c, everything, new Map([...base, ...adapters]))
      const adapted = new Transformer(c, { scale: adapterScale(everything), dropout: 0 })
      const merged = mergeAdapters(c, everything, base, adapters)
      const M = tensors(c, null, merged)
      const plain = new Transformer(c)
      const a = await logits(adapted, P, 2, 16)
      const m = await logits(plain, M, 2, 16)
      const b = await logits(plain, tensors(c, null, base), 2, 16)
      expect(maxDiff(a, m)).toBeLessThan(2e-4)
      // ...and the adapters do change the model (B is not zero).
      expect(maxDiff(a, b)).toBeGreaterThan(1e-2)
      // Merged, every adapted weight moved and nothing else did.
      const moved = [...merged].filter(([n, v]) => maxDiff(v, base.get(n)!) > 0).map(([n]) => n)
      expect(moved.sort()).toEqual(adaptedWeights(c, everything.targets).sort())
      expect([...merged.keys()].some(isAdapterName)).toBe(false)
      for (const t of [...Object.values(P), ...Object.values(M)]) t.dispose()
      adapted.dispose()
      plain.dispose()
    }
  })

  it.each([
    ['dense', dense, loraConfigSchema.parse({ rank: 2, alpha: 4, targets: ['attention', 'mlp'] })],
    // The MLP frozen: its products keep nothing for a weight gradient (layers/linear.ts).
    [
      'dense, attention alone',
      dense,
      loraConfigSchema.parse({ rank: 2, alpha: 4, targets: ['attention'] }),
    ],
    ['routed experts', moeModel(null), everything],
    ['stacked experts', moeModel(2), everything],
  ] as const)(
    "learn the full gradient's projection: dA = s·dW·Bᵀ and dB = s·Aᵀ·dW, the base untouched; checkpointing agrees (%s)",
    async (_, c, lora) => {
      const s = adapterScale(lora)
      const { base, adapters } = weightsWithAdapters(c, lora, 5)
      const merged = mergeAdapters(c, lora, base, adapters)
      const B = 2
      const T = 16
      const x = ids(B * T + 1, 9)
      // Packed rows (fine-tuning): two sequences per row, the loss on the second half of each.
      const positions = Int32Array.from({ length: B * T }, (_, i) => i % (T / 2))
      const segments = Int32Array.from({ length: B * T }, (_, i) => Math.floor((i % T) / (T / 2)))
      const weights = Float32Array.from({ length: B * T }, (_, i) => (i % (T / 2) >= T / 4 ? 2 : 0))
      const batch = {
        inputs: x.slice(0, -1),
        targets: x.slice(1),
        B,
        T,
        packing: { positions, segments, weights },
      }
      const request = (
        model: Transformer,
        values: Map<string, Float32Array>,
        specs: ReturnType<typeof paramSpecs>,
        trainable: string[],
        checkpointing: boolean,
      ) => ({
        model,
        params: new Map(
          specs.map((sp) => [
            sp.name,
            ownedVariable(tf.tensor(values.get(sp.name)!, sp.shape), trainable.includes(sp.name)),
          ]),
        ),
        trainable,
        batch,
        numerics: float32Numerics,
        lossScale: 1,
        labelSmoothing: 0,
        dropPath: null,
        checkpointing,
      })
      // Full fine-tuning of the merged weights: dW.
      const full = request(
        new Transformer(c),
        merged,
        paramSpecs(c),
        // The balancing bias is no gradient's: it is updated by the load, not the loss.
        paramSpecs(c)
          .map((sp) => sp.name)
          .filter((n) => !n.endsWith('router.bias')),
        false,
      )
      const fullGrads = (await computeGradients(full)).grads
      const adapterTrainable = adapterSpecs(c, lora).map((sp) => sp.name)
      const specs = [...paramSpecs(c), ...adapterSpecs(c, lora)]
      const values = new Map([...base, ...adapters])
      const model = new Transformer(c, { scale: s, dropout: 0 })
      const tape = await computeGradients(request(model, values, specs, adapterTrainable, false))
      const recomputed = await computeGradients(
        request(model, values, specs, adapterTrainable, true),
      )
      expect([...tape.grads.keys()].sort()).toEqual(adapterTrainable.sort())
      expect([...recomputed.grads.keys()].sort()).toEqual(adapterTrainable.sort())
      expect(Math.abs(tape.loss - recomputed.loss)).toBeLessThan(1e-5)
      const shapes = new Map(adapterSpecs(c, lora).map((sp) => [sp.name, sp.shape]))
      for (const w of adaptedWeights(c, lora.targets)) {
        const { a, b } = adapterNames(w)
        const A = tf.tensor(adapters.get(a)!, shapes.get(a))
        const Bm = tf.tensor(adapters.get(b)!, shapes.get(b))
        const dW = fullGrads.get(w)!
        const dA = tf.mul(tf.matMul(dW, Bm, false, true), s)
        const dB = tf.mul(tf.matMul(A, dW, true, false), s)
        for (const [got, want] of [
          [tape.grads.get(a)!, dA],
          [tape.grads.get(b)!, dB],
          [recomputed.grads.get(a)!, dA],
          [recomputed.grads.get(b)!, dB],
        ]) {
          const scale = Math.max(1e-3, (await tf.max(tf.abs(want)).data())[0])
          expect((await tf.max(tf.abs(tf.sub(got, want))).data())[0] / scale).toBeLessThan(1e-3)
        }
        tf.dispose([A, Bm, dA, dB])
      }
      for (const g of [fullGrads, tape.grads, recomputed.grads]) tf.dispose([...g.values()])
      for (const p of [...full.params.values()]) p.dispose()
      full.model.dispose()
      model.dispose()
    },
  )

  it('trains a frozen model: its weights stay as they were, the loss falls, the checkpoint holds the adapters alone and resumes exactly', async () => {
    // The base: a model trained on one phrase; the adapters teach it another.
    const phrase = (p: number[], n: number) =>
      Uint16Array.from({ length: n }, (_, i) => p[i % p.length])
    const first = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    const second = [11, 9, 7, 5, 3, 1, 2, 4, 6, 8, 10, 3]
    const train = (extra: object) =>
      trainConfigSchema.parse({
        steps: 60,
        batchSize: 4,
        learningRate: 3e-3,
        warmupSteps: 5,
        evalBatches: 4,
        threads: 1,
        ...extra,
      })
    const pre = await Trainer.create(dense, train({}), {
      train: phrase(first, 3000),
      val: phrase(first, 600),
      vocabSize: 12,
    })
    for (let i = 0; i < 40; i++) await pre.trainStep()
    const base = new Map<string, Float32Array>()
    for (const [name, t] of (await pre.state()).tensors)
      if (name.startsWith('param/')) base.set(name.slice(6), t)
    await pre.dispose()

    const data = { train: phrase(second, 3000), val: phrase(second, 600), vocabSize: 12 }
    const lora = { rank: 4, alpha: 8, dropout: 0.1, targets: ['attention', 'mlp'] }
    const config = train({ lora, learningRate: 1e-2 })
    const t = await Trainer.create(dense, config, data, { initialWeights: base })
    const before = await t.evaluate()
    for (let i = 0; i < 30; i++) await t.trainStep()
    const state = await t.state()
    for (let i = 0; i < 30; i++) await t.trainStep()
    const after = await t.evaluate()
    expect(after).toBeLessThan(before * 0.7)
    for (const spec of paramSpecs(dense)) {
      const now = (await t.params.get(spec.name)!.data()) as Float32Array
      expect(maxDiff(now, base.get(spec.name)!)).toBe(0)
    }
    // The checkpoint: adapters and their moments, no frozen weight.
    const saved = [...state.tensors.keys()].filter((k) => k.startsWith('param/'))
    expect(saved.every((k) => isAdapterName(k))).toBe(true)
    expect(saved.length).toBe(adapterSpecs(dense, config.lora!).length)
    const bytes = saved.reduce((n, k) => n + state.tensors.get(k)!.byteLength, 0)
    const modelBytes = [...base.values()].reduce((n, v) => n + v.byteLength, 0)
    expect(bytes).toBeLessThan(modelBytes / 2)
    // Resumed from the checkpoint (with its base), the run goes on exactly as it did.
    const resumed = await Trainer.create(dense, config, data, {
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

  it.each([
    ['float32, a matrix', float32Numerics, null, [6, 5]],
    ['bf16 emulated, a matrix', numericsFor('bf16'), null, [6, 5]],
    ['float32 with dropout, a matrix', float32Numerics, { rate: 0.3, seed: 11 }, [6, 5]],
    [
      'float32 with dropout, a stack of experts',
      float32Numerics,
      { rate: 0.3, seed: 11 },
      [3, 4, 5],
    ],
  ] as const)(
    'an adapted projection written as one operation gives the composed gradients (%s)',
    async (_, numerics, dropout, xShape) => {
      // x (…, 5), W (…, 5, 7), A (…, 5, 2), B (…, 2, 7); a stack has a leading expert axis.
      const lead = xShape.length === 3 ? [xShape[0]] : []
      const rng = new Rng(3)
      const t = (shape: number[]) =>
        tf.tensor(
          rng.normalArray(
            shape.reduce((a, b) => a * b, 1),
            1,
          ),
          shape,
        )
      const x = t([...xShape])
      const weight = {
        base: t([...lead, 5, 7]),
        a: t([...lead, 5, 2]),
        b: t([...lead, 2, 7]),
        scale: 1.5,
        dropout,
      }
      // The same numerics without its input gradient takes the composed path.
      const composed: Numerics = { matmul: (a, b) => numerics.matmul(a, b) }
      const grads = (n: Numerics) =>
        tf.grads((xx, aa, bb) => tf.sum(tf.square(linear(xx, { ...weight, a: aa, b: bb }, n))))([
          x,
          weight.a,
          weight.b,
        ])
      const fused = grads(numerics)
      const reference = grads(composed)
      for (let i = 0; i < 3; i++) {
        const want = await reference[i].data()
        const got = await fused[i].data()
        const scale = Math.max(...Array.from(want, Math.abs))
        for (let j = 0; j < want.length; j++)
          expect(Math.abs(got[j] - want[j]) / scale).toBeLessThan(1e-5)
      }
      tf.dispose([x, weight.base, weight.a, weight.b, ...fused, ...reference])
    },
  )

  it('adapts what the targets name, and nothing for targets the model lacks', () => {
    expect(adaptedWeights(dense, ['attention'])).toEqual([
      names.q(0),
      names.k(0),
      names.v(0),
      names.attnOut(0),
      names.q(1),
      names.k(1),
      names.v(1),
      names.attnOut(1),
    ])
    expect(adaptedWeights(dense, ['experts'])).toEqual([])
    const m = moeModel(null)
    // Layer 0 is dense; layer 1's routed experts, and its shared expert with the MLPs.
    expect(adaptedWeights(m, ['experts'])).toHaveLength(12)
    expect(adaptedWeights(m, ['mlp'])).toEqual([
      names.gate(0),
      names.up(0),
      names.down(0),
      names.sharedGate(1),
      names.sharedUp(1),
      names.sharedDown(1),
    ])
    expect(adapterNames(names.q(0))).toEqual({
      a: 'layers.0.attn.q.lora_A',
      b: 'layers.0.attn.q.lora_B',
    })
  })
})
