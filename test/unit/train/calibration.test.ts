import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { calibrationData } from '../../../src/worker/train/calibration-data'
import { trainConfigSchema, type TrainConfigInput } from '../../../src/worker/train/config'
import { Trainer } from '../../../src/worker/train/trainer'
import { setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

const model = modelConfigSchema.parse({
  vocabSize: 300,
  contextLength: 24,
  layers: 1,
  heads: 2,
  width: 16,
})

/** One step of `train` on the data the run form's "Time a step" shapes for its kind. */
async function calibratedStep(train: TrainConfigInput, seen?: (tokensPerStep: number) => void) {
  const parsed = trainConfigSchema.parse({ batchSize: 2, steps: 5, warmupSteps: 0, ...train })
  const shaped = await calibrationData(model, parsed)
  const trainer = await Trainer.create(model, shaped.train, shaped.data, {
    initialWeights: shaped.initialWeights,
  })
  try {
    seen?.(trainer.tokensPerStep)
    return await trainer.trainStep()
  } finally {
    await trainer.dispose()
  }
}

describe('timing a step of each kind of run (the run form’s "Time a step")', () => {
  it('pretraining and fine-tuning on conversations train full rows', async () => {
    for (const kind of ['pretrain', 'sft'] as const) {
      const m = await calibratedStep({ kind })
      expect(m.loss, kind).toBeGreaterThan(0)
      expect(m.sequences, kind).toBe(2)
      expect(m.contextLength, kind).toBe(24)
    }
  })

  it('preference training and reward models step on pairs, LoRA on random base weights', async () => {
    for (const kind of ['dpo', 'simpo', 'reward'] as const) {
      let tokens = 0
      const m = await calibratedStep({ kind }, (n) => (tokens = n))
      // Tokens per second count both replies of each of the 2 pairs, as the estimate does.
      expect(tokens, kind).toBe(2 * 2 * 24)
      expect(m.preference, kind).not.toBeNull()
      expect(Number.isFinite(m.loss), kind).toBe(true)
    }
    const lora = await calibratedStep({ kind: 'sft', lora: { rank: 4 } })
    expect(lora.loss).toBeGreaterThan(0)
  })

  it('GRPO samples replies of the full length, without the reward-model rules', async () => {
    let tokens = 0
    const m = await calibratedStep(
      {
        kind: 'grpo',
        grpo: {
          group: 2,
          maxNewTokens: 6,
          rewards: [
            { kind: 'exact', weight: 1 },
            { kind: 'reward-model', run: 'absent', weight: 1 },
          ],
        },
      },
      (n) => (tokens = n),
    )
    expect(tokens).toBe(2 * 2 * 24) // 2 prompts × a group of 2, at the full length
    expect(m.policy).not.toBeNull()
    // Random weights seldom end a reply early: the step's cost is that of the longest replies.
    expect(m.policy!.length).toBeGreaterThan(4)
  })
})
