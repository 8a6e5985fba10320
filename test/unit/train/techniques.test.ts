import { describe, expect, it } from 'vitest'
import { modelConfigSchema } from '../../../src/shared/config/model'
import { trainConfigSchema } from '../../../src/shared/config/train'
import { compareLower, runTechniques } from '../../../src/shared/techniques'

const model = (extra = {}) =>
  modelConfigSchema.parse({
    vocabSize: 64,
    contextLength: 32,
    layers: 2,
    heads: 2,
    width: 16,
    ...extra,
  })

describe('the cost report’s labels and verdicts', () => {
  it('names every technique a run uses, and none for a plain run', () => {
    expect(runTechniques(model(), trainConfigSchema.parse({}), {})).toEqual([])
    const labels = runTechniques(
      model({ moe: { routedExperts: 8, topK: 2, balance: 'aux-free' } }),
      trainConfigSchema.parse({
        precision: 'bf16',
        qatStart: 0.9,
        curriculum: 'unigram',
        contextWarmupSteps: 10,
        tokenBudget: 512,
        adaptiveBatch: true,
      }),
      { teacher: { runId: 'big', checkpointId: 1 } },
    )
    expect(labels).toEqual([
      'MoE 8×top-2, aux-free',
      'bf16',
      'QAT from 90%',
      'distilled (α 0.5, T 2)',
      'curriculum (unigram)',
      'progressive context',
      'token budget 512',
      'adaptive batch',
    ])
  })

  it('calls differences under 0.5% a tie, and says which way the rest go', () => {
    expect(compareLower(2.0, 2.005).verdict).toBe('tie')
    const better = compareLower(1.9, 2.0)
    expect(better.verdict).toBe('better')
    expect(better.percent).toBeCloseTo(-5, 9)
    expect(compareLower(2.1, 2.0).verdict).toBe('worse')
  })
})
