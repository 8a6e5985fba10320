import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { crossEntropy } from '../../../src/worker/model/loss'
import { Transformer, type Params } from '../../../src/worker/model/model'
import { initialValues, paramSpecs } from '../../../src/worker/model/params'
import { Rng } from '../../../src/shared/rng'
import { trainConfigSchema, type TrainConfigInput } from '../../../src/worker/train/config'
import {
  CurriculumSampler,
  mixes,
  mixFor,
  referenceDifficulty,
  tertileThresholds,
  unigramDifficulty,
} from '../../../src/worker/train/curriculum'
import { NoiseScale } from '../../../src/worker/train/noise-scale'
import { batchSizeAt, contextLengthAt } from '../../../src/worker/train/schedule'
import { Trainer, type StepMetrics } from '../../../src/worker/train/trainer'
import { setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

const train = (extra: TrainConfigInput = {}) => trainConfigSchema.parse({ steps: 100, ...extra })

describe('curriculum difficulty', () => {
  it('unigram: the mean surprisal of each window, −log of the stream’s own frequencies', () => {
    // Token 0 is common (6 of 9), 1 and 2 rare: the window of rare tokens is the harder one.
    const tokens = Uint16Array.from([0, 0, 0, 0, 0, 1, 2, 0, 1])
    const d = unigramDifficulty(tokens, 4, 3)
    expect(d.length).toBe(2) // windows [0..4] and [4..8]; each predicts tokens 1..4 of it
    const s = (n: number) => -Math.log(n / 9)
    expect(d[0]).toBeCloseTo((4 * s(6)) / 4, 5)
    expect(d[1]).toBeCloseTo((s(2) + s(2) + s(1) + s(6)) / 4, 5)
    expect(d[1]).toBeGreaterThan(d[0])
  })

  it('reference: each window’s mean cross-entropy under the model, in batches', async () => {
    const config = modelConfigSchema.parse({
      vocabSize: 10,
      contextLength: 8,
      layers: 1,
      heads: 2,
      width: 8,
    })
    const model = new Transformer(config)
    const init = initialValues(config, new Rng(3))
    const params: Params = {}
    for (const spec of paramSpecs(config))
      params[spec.name] = tf.tensor(init.get(spec.name)!, spec.shape)
    const tokens = Uint16Array.from({ length: 8 * 5 + 3 }, (_, i) => (i * 7) % 10)
    const progress: number[] = []
    const d = await referenceDifficulty(model, params, tokens, 8, {
      batch: 2,
      onProgress: (done) => progress.push(done),
    })
    expect(d.length).toBe(5)
    expect(progress).toEqual([2, 4, 5])
    for (let k = 0; k < 5; k++) {
      const expected = tf.tidy(() => {
        const ids = tf.tensor1d(Int32Array.from(tokens.slice(k * 8, k * 8 + 8)), 'int32')
        const { logits } = model.forward(params, ids, 1, 8)
        const targets = Int32Array.from(tokens.slice(k * 8 + 1, k * 8 + 9))
        return crossEntropy(logits, tf.tensor1d(targets, 'int32'))
      })
      expect(d[k]).toBeCloseTo(expected.dataSync()[0], 4)
      expected.dispose()
    }
    for (const t of Object.values(params)) t.dispose()
    model.dispose()
  })
})

describe('curriculum mixing', () => {
  it('mixes easy-heavy while the loss is high, balanced in between, hard-heavy once low', () => {
    const t = tertileThresholds(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))
    expect(t).toEqual({ high: 7, low: 4 })
    expect(mixFor(null, t)).toBe(mixes.early)
    expect(mixFor(8, t)).toBe(mixes.early)
    expect(mixFor(5, t)).toBe(mixes.middle)
    expect(mixFor(3, t)).toBe(mixes.late)
    for (const m of Object.values(mixes)) expect(m.easy + m.medium + m.hard).toBeCloseTo(1, 9)
  })

  it('draws each sequence from its bucket with the mix’s probability', () => {
    const S = 4
    const windows = 30
    // Window k holds the token k everywhere, so a sequence tells which window it came from.
    const tokens = Uint16Array.from({ length: windows * S + 1 }, (_, i) =>
      Math.min(windows - 1, Math.floor(i / S)),
    )
    // Difficulty rises with k: windows 0-9 easy, 10-19 medium, 20-29 hard.
    const difficulty = Float32Array.from({ length: windows }, (_, k) => k)
    const sampler = new CurriculumSampler(tokens, S, difficulty, 1)
    expect(sampler.buckets.map((b) => [...b])).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      [20, 21, 22, 23, 24, 25, 26, 27, 28, 29],
    ])
    const onlyEasy = sampler.next(50, S, { easy: 1, medium: 0, hard: 0 })
    for (let b = 0; b < 50; b++) expect(onlyEasy.inputs[b * S]).toBeLessThan(10)

    const counts = [0, 0, 0]
    const B = 4000
    const batch = sampler.next(B, 2, mixes.early)
    for (let b = 0; b < B; b++) counts[Math.floor(batch.inputs[b * 2] / 10)]++
    expect(counts[0] / B).toBeCloseTo(0.7, 1)
    expect(counts[1] / B).toBeCloseTo(0.2, 1)
    expect(counts[2] / B).toBeCloseTo(0.1, 1)
    // Targets are the next tokens of the same windows.
    expect(batch.targets.length).toBe(B * 2)
  })
})

describe('progressive schedules and token budgets', () => {
  it('grows the context in multiples of 8 from a quarter to the full length', () => {
    const c = train({ contextWarmupSteps: 10 })
    const lengths = Array.from({ length: 12 }, (_, s) => contextLengthAt(c, 64, s))
    expect(lengths[0]).toBe(16)
    expect(lengths[10]).toBe(64)
    expect(lengths[11]).toBe(64)
    for (let s = 1; s < 12; s++) expect(lengths[s]).toBeGreaterThanOrEqual(lengths[s - 1])
    for (const T of lengths) expect(T % 8).toBe(0)
    expect(contextLengthAt(train(), 64, 0)).toBe(64)
    expect(contextLengthAt(train({ contextWarmupSteps: 10, contextStart: 40 }), 64, 0)).toBe(40)
  })

  it('fills a token budget with as many sequences as fit; otherwise ramps the batch size', () => {
    expect(batchSizeAt(train({ tokenBudget: 256 }), 16, 0)).toBe(16)
    expect(batchSizeAt(train({ tokenBudget: 256 }), 64, 0)).toBe(4)
    expect(batchSizeAt(train({ tokenBudget: 8 }), 64, 0)).toBe(1)
    const ramp = train({ batchSize: 16, batchWarmupSteps: 4 })
    expect([0, 1, 2, 3, 4, 9].map((s) => batchSizeAt(ramp, 64, s))).toEqual([4, 7, 10, 13, 16, 16])
  })
})

describe('gradient noise scale', () => {
  it('recovers tr(Σ)/|G|² from micro-batch gradients, and sizes the batch by it', () => {
    // Per-example gradients G + ε with ε ~ N(0, σ²·I) in D dimensions: B_noise = D·σ²/|G|².
    const D = 50
    const sigma = 2
    const G = Float64Array.from({ length: D }, (_, i) => 0.5 + 0.01 * i)
    const gSq = G.reduce((a, g) => a + g * g, 0)
    const truth = (D * sigma * sigma) / gSq
    const rng = new Rng(9)
    const b = 4 // sequences per micro-batch
    const k = 4 // micro-batches per step
    const noise = new NoiseScale(2, 64)
    for (let step = 0; step < 400; step++) {
      const micro = Array.from({ length: k }, () =>
        Float64Array.from(G, (g) => g + (sigma * rng.normal()) / Math.sqrt(b)),
      )
      const mean = Float64Array.from(G, (_, i) => micro.reduce((a, m) => a + m[i], 0) / k)
      const sq = (v: Float64Array) => v.reduce((a, x) => a + x * x, 0)
      noise.observe(micro.map(sq), sq(mean), b)
    }
    expect(noise.value! / truth).toBeGreaterThan(0.8)
    expect(noise.value! / truth).toBeLessThan(1.25)
    // Micro-batches for an effective batch of about B_noise sequences, within the bounds.
    expect(noise.accumulation).toBe(Math.min(64, Math.ceil(noise.value! / b)))
  })

  it('ignores a step with non-finite norms and stays within its bounds', () => {
    const noise = new NoiseScale(2, 3)
    noise.observe([Infinity, 1], 1, 4)
    expect(noise.value).toBeNull()
    expect(noise.accumulation).toBe(2)
    for (let i = 0; i < 20; i++) noise.observe([2, 2], 1.05, 1)
    expect(noise.accumulation).toBe(3)
  })
})

describe('trainer with curriculum, progressive context, token budget and adaptive batch', () => {
  const phrase = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 3, 5, 7]
  const tokens = Uint16Array.from({ length: 4000 }, (_, i) =>
    // Every other 16-token window is noisy (hard), the rest a clean phrase (easy).
    Math.floor(i / 16) % 2 ? (i * 7 + (i % 13)) % 12 : phrase[i % phrase.length],
  )
  const data = { train: tokens, val: tokens.slice(0, 1000), vocabSize: 12 }
  const model = modelConfigSchema.parse({
    vocabSize: 12,
    contextLength: 16,
    layers: 1,
    heads: 2,
    width: 16,
  })
  const config = train({
    steps: 12,
    batchSize: 4,
    warmupSteps: 2,
    curriculum: 'unigram',
    contextWarmupSteps: 6,
    contextStart: 8,
    tokenBudget: 64,
    adaptiveBatch: true,
    maxGradAccumulation: 4,
  })
  const difficulty = unigramDifficulty(tokens, 16, 12)

  async function steps(t: Trainer, n: number): Promise<StepMetrics[]> {
    const out: StepMetrics[] = []
    for (let i = 0; i < n; i++) out.push(await t.trainStep())
    return out
  }

  it('follows every schedule, counts the tokens it used, and resumes exactly', async () => {
    const whole = await Trainer.create(model, config, data, { curriculum: { difficulty } })
    const all = await steps(whole, 10)
    expect(all[0].mix).toEqual(mixes.early)
    expect(all.map((m) => m.contextLength)).toEqual([8, 8, 8, 8, 8, 8, 16, 16, 16, 16])
    for (const m of all) {
      expect(m.sequences).toBe(m.microBatches * (64 / m.contextLength))
      expect(m.tokens).toBe(m.microBatches * 64)
      expect(m.microBatches).toBeGreaterThanOrEqual(2)
      expect(m.microBatches).toBeLessThanOrEqual(4)
    }
    expect(all.some((m) => m.noiseScale !== null)).toBe(true)
    expect(whole.tokensSeen).toBe(all.reduce((a, m) => a + m.tokens, 0))
    expect(whole.curriculumInfo!.buckets.reduce((a, n) => a + n, 0)).toBe(difficulty.length)

    const first = await Trainer.create(model, config, data, { curriculum: { difficulty } })
    const head = await steps(first, 4)
    const snapshot = await first.state()
    await first.dispose()
    const resumed = await Trainer.create(model, config, data, {
      resume: snapshot,
      curriculum: { difficulty },
    })
    const tail = await steps(resumed, 6)
    expect([...head, ...tail].map((m) => m.loss)).toEqual(all.map((m) => m.loss))
    expect([...head, ...tail].map((m) => m.microBatches)).toEqual(all.map((m) => m.microBatches))
    expect(resumed.tokensSeen).toBe(whole.tokensSeen)
    await Promise.all([whole.dispose(), resumed.dispose()])
  })

  it('moves to harder mixes as the loss falls below the thresholds', async () => {
    const t = await Trainer.create(
      model,
      { ...config, curriculumThresholds: { high: 100, low: 99 }, adaptiveBatch: false },
      data,
      { curriculum: { difficulty } },
    )
    const [firstStep, second] = await steps(t, 2)
    // The first step knows no loss yet; any finite loss is below these thresholds.
    expect(firstStep.mix).toEqual(mixes.early)
    expect(second.mix).toEqual(mixes.late)
    await t.dispose()
  })
})
