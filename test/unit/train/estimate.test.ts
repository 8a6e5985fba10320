import * as tf from '@tensorflow/tfjs-core'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { estimateRun } from '../../../src/shared/estimate'
import { trainConfigSchema } from '../../../src/worker/train/config'
import { parseRunFile, validateConfigs } from '../../../src/worker/train/setup'
import { Trainer } from '../../../src/worker/train/trainer'
import { setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

const presets = readdirSync('resources/presets').map((file) => {
  const run = parseRunFile(JSON.parse(readFileSync(join('resources/presets', file), 'utf8')))
  return { file, ...validateConfigs(run.model, run.train, 2048) }
})

describe('run estimates', () => {
  for (const { file, model, train } of presets) {
    it(`${file}: parameters exactly as allocated, memory within 25% of the measured peak`, async () => {
      // One thread and a short run: what is measured is a step's peak, not the data.
      const config = trainConfigSchema.parse({ ...train, threads: 1 })
      const tokens = Uint16Array.from({ length: 50_000 }, (_, i) => (i * 7919) % model.vocabSize)
      const before = tf.memory().numBytes
      const trainer = await Trainer.create(model, config, {
        train: tokens,
        val: tokens,
        vocabSize: model.vocabSize,
      })
      const estimate = estimateRun(model, config, 1)
      let allocated = 0
      let trainable = 0
      for (const p of trainer.params.values()) {
        allocated += p.size
        if (p.trainable) trainable += p.size
      }
      expect(estimate.params.total).toBe(trainable)
      expect(estimate.params.stored).toBe(allocated)

      await trainer.trainStep() // warm-up: kernels, tables, optimizer state
      const profile = await tf.profile(async () => {
        await trainer.trainStep()
      })
      // tf.profile's peak is absolute: everything this trainer holds at the busiest moment.
      const measured = profile.peakBytes - before
      const ratio = estimate.memory.total / measured
      expect(ratio, `estimate ${estimate.memory.total} vs measured ${measured}`).toBeGreaterThan(
        0.75,
      )
      expect(ratio).toBeLessThan(1.25)
      await trainer.dispose()
      // Disposing a trainer gives its memory back.
      expect(tf.memory().numBytes).toBeLessThan(before + 1e6)
    }, 240_000) // the small MoE preset takes real steps: 6 layers × 256 wide, context 256
  }

  it('counts active parameters and FLOPs for the experts a token visits', () => {
    const { model, train } = presets.find((p) => p.file === 'tiny-moe.json')!
    const e = estimateRun(model, train, 1)
    expect(e.params.active).toBeLessThan(e.params.total)
    const dense = estimateRun({ ...model, moe: null }, train, 1)
    // The MoE routes each token through 2 of 8 experts plus a shared one: more parameters than
    // the dense model, a similar number of FLOPs per token.
    expect(e.params.total).toBeGreaterThan(2 * dense.params.total)
    expect(e.flopsPerToken / dense.flopsPerToken).toBeGreaterThan(1)
    expect(e.flopsPerToken / dense.flopsPerToken).toBeLessThan(1.6)
    expect(e.tokensPerStep).toBe(train.batchSize * model.contextLength)
  })

  it('counts the rows a preference or GRPO batch really holds, and GRPO its reference weights', () => {
    const { model, train } = presets.find((p) => p.file === 'tiny-dense.json')!
    const at = (extra: object) =>
      estimateRun(model, trainConfigSchema.parse({ ...train, ...extra, threads: 1 }), 1)
    const plain = at({ kind: 'sft' })
    // A pair is two rows; a GRPO prompt is a group of sampled replies.
    expect(at({ kind: 'dpo' }).tokensPerStep).toBe(2 * plain.tokensPerStep)
    const grpo = at({ kind: 'grpo', grpo: { group: 4 } })
    expect(grpo.tokensPerStep).toBe(4 * plain.tokensPerStep)
    expect(grpo.memory.stepPeak.full).toBeGreaterThan(plain.memory.stepPeak.full)
    expect(grpo.memory.weights).toBe(2 * plain.memory.weights)
    expect(at({ kind: 'grpo', grpo: { klBeta: 0 } }).memory.weights).toBe(plain.memory.weights)
  })
})
