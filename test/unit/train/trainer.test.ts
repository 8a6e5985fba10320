import * as tf from '@tensorflow/tfjs-core'
import { resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigSchema, type ModelConfigInput } from '../../../src/worker/model/config'
import { trainConfigSchema, type TrainConfigInput } from '../../../src/worker/train/config'
import { computeGradients } from '../../../src/worker/train/gradients'
import { numericsFor } from '../../../src/worker/train/precision'
import { fakeQuantWeight, qatNumerics } from '../../../src/worker/train/qat'
import { Trainer, type StepMetrics } from '../../../src/worker/train/trainer'
import { setupTf, testBackend } from '../../helpers/tfjs'

const replicaEntry = resolve('src/worker/train/parallel/replica.ts')
/** Data-parallel threads are for the CPU backends; a GPU backend trains on one. */
const threaded = testBackend !== 'webgpu'

beforeAll(async () => {
  await setupTf()
})

/** A tiny corpus with structure to learn: a repeating phrase over a 12-symbol alphabet. */
function corpus(n = 4000): Uint16Array {
  const phrase = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 3, 5, 7]
  return Uint16Array.from(
    { length: n },
    (_, i) => phrase[i % phrase.length] ^ (i % 97 === 0 ? 1 : 0),
  )
}
const data = { train: corpus(), val: corpus(1000), vocabSize: 12 }

const tinyModel = (extra: Partial<ModelConfigInput> = {}) =>
  modelConfigSchema.parse({
    vocabSize: 12,
    contextLength: 16,
    layers: 2,
    heads: 2,
    width: 16,
    ...extra,
  })
const tinyTrain = (extra: TrainConfigInput = {}) =>
  trainConfigSchema.parse({
    steps: 40,
    batchSize: 4,
    learningRate: 3e-3,
    warmupSteps: 5,
    evalBatches: 4,
    ...extra,
  })
const moe = { routedExperts: 4, topK: 2, firstDenseLayers: 1, capacityFactor: null }
/** With a capacity: on a GPU backend its routing is decided on the device. */
const moeWithCapacity = { ...moe, capacityFactor: 1.25 }

async function losses(trainer: Trainer, steps: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < steps; i++) out.push((await trainer.trainStep()).loss)
  return out
}

/** A teacher for distillation: `config` trained for `steps`, as config and weights. */
async function trainedTeacher(config: ReturnType<typeof tinyModel>, steps: number) {
  const run = await Trainer.create(config, tinyTrain(), data)
  await losses(run, steps)
  const weights = new Map<string, Float32Array>()
  for (const [name, t] of (await run.state()).tensors)
    if (name.startsWith('param/')) weights.set(name.slice(6), t)
  await run.dispose()
  return { config, weights }
}

describe('trainer', () => {
  it('learns: dense and MoE models lower their loss', async () => {
    for (const model of [tinyModel(), tinyModel({ moe }), tinyModel({ moe: moeWithCapacity })]) {
      const t = await Trainer.create(model, tinyTrain(), data)
      const before = await t.evaluate()
      await losses(t, 40)
      const after = await t.evaluate()
      expect(after).toBeLessThan(before * 0.7)
      await t.dispose()
    }
  })

  it('is deterministic: the same seed gives the same losses, bit for bit', async () => {
    const a = await Trainer.create(tinyModel({ moe }), tinyTrain({ dropPath: 0.2 }), data)
    const b = await Trainer.create(tinyModel({ moe }), tinyTrain({ dropPath: 0.2 }), data)
    expect(await losses(a, 8)).toEqual(await losses(b, 8))
    const c = await Trainer.create(tinyModel({ moe }), tinyTrain({ dropPath: 0.2, seed: 7 }), data)
    expect(await losses(c, 1)).not.toEqual(
      await losses(await Trainer.create(tinyModel({ moe }), tinyTrain({ dropPath: 0.2 }), data), 1),
    )
    await Promise.all([a.dispose(), b.dispose(), c.dispose()])
  })

  it('resumes from a snapshot exactly where the uninterrupted run would be', async () => {
    const config = tinyTrain({ dropPath: 0.1, gradAccumulation: 2 })
    const model = tinyModel({ moe: { ...moe, balance: 'aux-free' } })
    const whole = await Trainer.create(model, config, data)
    const expected = await losses(whole, 10)
    const first = await Trainer.create(model, config, data)
    const head = await losses(first, 4)
    const snapshot = await first.state()
    await first.dispose()
    const resumed = await Trainer.create(model, config, data, { resume: snapshot })
    expect(resumed.step).toBe(4)
    expect([...head, ...(await losses(resumed, 6))]).toEqual(expected)
    await Promise.all([whole.dispose(), resumed.dispose()])
  })

  it.runIf(threaded)(
    'trains the same model on two threads: shards summed equal the whole batch',
    async () => {
      const model = tinyModel({ moe })
      const one = await Trainer.create(model, tinyTrain(), data)
      const two = await Trainer.create(model, tinyTrain({ threads: 2 }), data, {
        replicaEntry,
        backend: 'wasm',
      })
      const a = await losses(one, 5)
      const b = await losses(two, 5)
      // Float summation order differs, so equal to rounding, not bit for bit.
      b.forEach((x, i) => expect(x).toBeCloseTo(a[i], 4))
      await Promise.all([one.dispose(), two.dispose()])
    },
  )

  it('gives the same gradients with and without gradient checkpointing', async () => {
    for (const cfg of [
      tinyModel(),
      tinyModel({ layers: 2, shareGroupSize: 2, moe: { ...moe, firstDenseLayers: 0 } }),
      tinyModel({ layers: 2, moe: { ...moeWithCapacity, firstDenseLayers: 0 } }),
    ]) {
      const trainer = await Trainer.create(cfg, tinyTrain(), data)
      const batch = {
        inputs: Int32Array.from(data.train.slice(0, 64)),
        targets: Int32Array.from(data.train.slice(1, 65)),
        B: 4,
        T: 16,
      }
      const trainable = [...trainer.params.keys()].filter((n) => !n.endsWith('router.bias'))
      const run = (checkpointing: boolean) =>
        computeGradients({
          model: trainer.model,
          params: trainer.params,
          trainable,
          batch,
          numerics: numericsFor('fp32'),
          lossScale: 1,
          labelSmoothing: 0.1,
          dropPath: null,
          checkpointing,
        })
      const full = await run(false)
      const ckpt = await run(true)
      expect(ckpt.loss).toBeCloseTo(full.loss, 6)
      for (const [name, g] of full.grads) {
        const diff = (await tf.max(tf.abs(tf.sub(g, ckpt.grads.get(name)!))).data())[0]
        expect(diff, name).toBeLessThan(1e-6)
      }
      await trainer.dispose()
    }
  })

  it('QAT: switches on at its fraction of the steps, rounds every weight GEMM, and works on two threads', async () => {
    const model = tinyModel({ moe, tieEmbeddings: false })
    const train = tinyTrain({ steps: 8, qatStart: 0.5, qatActivations: 'none' })
    const trainer = await Trainer.create(model, train, data)
    const flags: boolean[] = []
    const one: number[] = []
    for (let i = 0; i < 8; i++) {
      const m = await trainer.trainStep()
      flags.push(m.qat)
      one.push(m.loss)
    }
    expect(flags).toEqual([false, false, false, false, true, true, true, true])
    // Under QAT numerics the loss is the float model's loss with every weight matrix of a
    // GEMM (projections, experts, output head; not the embedding lookup or the router)
    // replaced by its int8 rounding.
    const batch = {
      inputs: Int32Array.from(data.train.slice(0, 64)),
      targets: Int32Array.from(data.train.slice(1, 65)),
      B: 4,
      T: 16,
    }
    const gemm = (name: string) =>
      trainer.params.get(name)!.rank === 2 && name !== 'embed.weight' && !name.includes('router')
    const rounded = new Map(
      [...trainer.params].map(([name, v]) => [
        name,
        gemm(name) ? tf.variable(fakeQuantWeight(v as tf.Tensor2D)) : v,
      ]),
    )
    const loss = async (
      params: Map<string, tf.Variable>,
      numerics: ReturnType<typeof numericsFor>,
    ) =>
      (
        await computeGradients({
          model: trainer.model,
          params,
          trainable: [...params.keys()].filter((n) => !n.endsWith('router.bias')),
          batch,
          numerics,
          lossScale: 1,
          labelSmoothing: 0,
          dropPath: null,
          checkpointing: false,
        })
      ).loss
    const viaQat = await loss(trainer.params, qatNumerics(numericsFor('fp32'), 'none'))
    const viaRounded = await loss(rounded, numericsFor('fp32'))
    expect(viaQat).toBeCloseTo(viaRounded, 5)
    expect(Math.abs(viaQat - (await loss(trainer.params, numericsFor('fp32'))))).toBeGreaterThan(
      1e-6,
    )
    await trainer.dispose()

    // The replicas switch too: two threads give the one-thread losses.
    if (!threaded) return
    const two = await Trainer.create(model, { ...train, threads: 2 }, data, {
      replicaEntry,
      backend: 'wasm',
    })
    const b = await losses(two, 8)
    b.forEach((x, i) => expect(x).toBeCloseTo(one[i], 4))
    await two.dispose()
  })

  it('distils: α=1 is plain training, α=0 pulls the student to the teacher, two threads agree', async () => {
    // A teacher: the tiny MoE model trained for 40 steps.
    const teacher = await trainedTeacher(tinyModel({ moe }), 40)
    const student = tinyModel({ width: 8, layers: 1 })

    // α = 1: the KL is measured but weighs nothing, so the run is the plain one.
    const plain = await Trainer.create(student, tinyTrain(), data)
    const labelsOnly = await Trainer.create(student, tinyTrain({ distillAlpha: 1 }), data, {
      teacher,
    })
    for (let i = 0; i < 3; i++) {
      const a = await plain.trainStep()
      const b = await labelsOnly.trainStep()
      expect(b.loss).toBe(a.loss)
      expect(b.kl).toBeGreaterThan(0)
      expect(a.kl).toBeNull()
    }
    await Promise.all([plain.dispose(), labelsOnly.dispose()])

    // α = 0: only the teacher's soft targets; the student's KL to it falls.
    const train = tinyTrain({ distillAlpha: 0, distillTemperature: 2 })
    const pupil = await Trainer.create(student, train, data, { teacher })
    const kls: number[] = []
    const one: number[] = []
    for (let i = 0; i < 30; i++) {
      const m = await pupil.trainStep()
      kls.push(m.kl!)
      one.push(m.kl!)
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    expect(mean(kls.slice(-5))).toBeLessThan(mean(kls.slice(0, 5)) * 0.6)
    await pupil.dispose()

    // On two threads the teacher's rows go to the replica with its shard: the same KLs.
    if (threaded) {
      const two = await Trainer.create(student, { ...train, threads: 2 }, data, {
        teacher,
        replicaEntry,
        backend: 'wasm',
      })
      for (let i = 0; i < 5; i++) expect((await two.trainStep()).kl).toBeCloseTo(one[i], 4)
      await two.dispose()
    }

    // A teacher with another vocabulary is refused.
    await expect(
      Trainer.create(tinyModel({ vocabSize: 13 }), tinyTrain(), data, { teacher }),
    ).rejects.toThrow(/must share a tokenizer/)
  })

  it('aligns hidden states through a learned projection, in stages, the same on every path', async () => {
    const teacher = await trainedTeacher(tinyModel({ layers: 2, width: 16 }), 20)
    // Width 8 against the teacher's 16: a learned 8×16 projection; two stages of 4 steps.
    const student = tinyModel({ width: 8, layers: 1 })
    const train = tinyTrain({
      steps: 20,
      distillHiddenWeight: 1,
      distillStages: { hidden: 0.2, logits: 0.4 },
    })
    const t = await Trainer.create(student, train, data, { teacher })
    expect(t.params.get('distill.proj.L0')!.shape).toEqual([8, 16])
    const steps: StepMetrics[] = []
    for (let i = 0; i < 12; i++) steps.push(await t.trainStep())
    expect(steps.map((m) => m.distillStage)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
    // Stage 1 trains on the hidden states alone: their MSE falls.
    expect(steps[3].hidden!).toBeLessThan(steps[0].hidden!)
    // The projection is in the checkpoint, so a resumed run keeps it.
    expect((await t.state()).tensors.has('param/distill.proj.L0')).toBe(true)
    await t.dispose()

    // Gradient checkpointing and two threads give the same losses as the full tape.
    const run = async (extra: Omit<TrainConfigInput, 'lora' | 'grpo'>, options = {}) => {
      const r = await Trainer.create(student, { ...train, ...extra }, data, {
        teacher,
        ...options,
      })
      const out: [number, number][] = []
      for (let i = 0; i < 3; i++) {
        const m = await r.trainStep()
        out.push([m.loss, m.hidden!])
      }
      await r.dispose()
      return out
    }
    const base = await run({ distillStages: null })
    const recomputed = await run({ distillStages: null, gradientCheckpointing: true })
    const onThreads = threaded
      ? [await run({ distillStages: null, threads: 2 }, { replicaEntry, backend: 'wasm' })]
      : []
    for (let i = 0; i < 3; i++)
      for (const other of [recomputed, ...onThreads]) {
        expect(other[i][0]).toBeCloseTo(base[i][0], 4)
        expect(other[i][1]).toBeCloseTo(base[i][1], 4)
      }

    // A layer the student does not have is refused with its range.
    await expect(
      Trainer.create(
        student,
        tinyTrain({ distillHiddenWeight: 1, distillHiddenLayers: [3] }),
        data,
        {
          teacher,
        },
      ),
    ).rejects.toThrow(/has 1 layers \(0-0\), so it has no layer 3/)
  })

  it('emulates fp16 with loss scaling and keeps training', async () => {
    const t = await Trainer.create(tinyModel(), tinyTrain({ precision: 'fp16' }), data)
    const first = await t.trainStep()
    expect(first.lossScale).toBe(2 ** 16)
    await losses(t, 30)
    expect(await t.evaluate()).toBeLessThan(2)
    await t.dispose()
  })
})

describe('memory over a long run', () => {
  it.each([
    ['', moe, false],
    [', MoE with a capacity (on a GPU: routed on the device)', moeWithCapacity, false],
    [', the same with checkpointing', moeWithCapacity, true],
  ] as const)(
    'holds a constant number of tensors on the main thread and in every replica%s',
    async (_, routing, checkpointing) => {
      const model = tinyModel({ moe: { ...routing, balance: 'aux-free' } })
      const train = tinyTrain({
        threads: threaded ? 2 : 1,
        dropPath: 0.1,
        gradientCheckpointing: checkpointing,
      })
      const t = await Trainer.create(model, train, data, {
        replicaEntry,
        backend: testBackend,
      })
      // Warm-up: the first step and evaluation cache tables for their batch shapes.
      await losses(t, 3)
      await t.evaluate(2)
      const main = tf.memory().numTensors
      const replicas = [...t.replicaTensors]
      await losses(t, 10)
      await t.evaluate(2)
      expect(tf.memory().numTensors).toBe(main)
      expect(t.replicaTensors).toEqual(replicas)
      await t.dispose()
    },
  )
})
