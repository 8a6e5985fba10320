import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { policyLoss, type PolicyLayout } from '../../../src/worker/model/policy-loss'
import { lastNumber, RewardRules } from '../../../src/worker/grpo/rewards'
import { arithmeticTask } from '../../../src/worker/grpo/toy-task'
import { gradientError, randomTensor, setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

/** Two replies in rows of T = 3 over a vocabulary of 4: row 0's last two targets, row 1's last. */
function layout(old: number[], reference: number[] | null, advantage = [1, -1]): PolicyLayout {
  return {
    mask: Float32Array.from([0, 1, 1, 0, 0, 1]),
    advantage: Float32Array.from(advantage),
    tokens: Float32Array.from([2, 1]),
    old: Float32Array.from(old),
    reference: reference ? Float32Array.from(reference) : null,
  }
}

const targets = () => tf.tensor1d([0, 1, 2, 0, 3, 1], 'int32')

async function logProbs(logits: tf.Tensor2D): Promise<number[]> {
  const lp = tf.logSoftmax(logits)
  const v = await lp.array()
  return v.map((row, i) => row[[0, 1, 2, 0, 3, 1][i]])
}

describe('the GRPO objective', () => {
  it('is the clipped surrogate per reply token, averaged per reply, minus β·KL', async () => {
    const logits = randomTensor([6, 4], 3) as tf.Tensor2D
    const lp = await logProbs(logits)
    // π_old: row 0's tokens were likelier when sampled (ratio < 1), row 1's less (ratio > 1).
    const old = lp.map((v, i) => (i < 3 ? v + 0.5 : v - 0.5))
    const ref = lp.map((v) => v - 0.2)
    const out = policyLoss(logits, targets(), layout(old, ref), { clip: 0.2, klBeta: 0.1 }, 3)
    const ratio = (i: number) => Math.exp(lp[i] - old[i])
    const clip = (r: number) => Math.min(1.2, Math.max(0.8, r))
    const surrogate = (i: number, A: number) => Math.min(ratio(i) * A, clip(ratio(i)) * A)
    const kl = (i: number) => Math.exp(ref[i] - lp[i]) - (ref[i] - lp[i]) - 1
    const row0 = (surrogate(1, 1) - 0.1 * kl(1) + surrogate(2, 1) - 0.1 * kl(2)) / 2
    const row1 = surrogate(5, -1) - 0.1 * kl(5)
    expect((await out.loss.data())[0]).toBeCloseTo(-(row0 + row1) / 2, 5)
    expect((await out.kl.data())[0]).toBeCloseTo((kl(1) + kl(2) + kl(5)) / 3, 5)
    // Row 0 (A > 0, ratio e^−0.5 < 0.8) is not held back; row 1 (A < 0, ratio e^0.5 > 1.2) is
    // not either: the clip holds back only a ratio past the band in its advantage's direction.
    expect((await out.clipped.data())[0]).toBe(0)
    const pushed = policyLoss(
      logits,
      targets(),
      layout(
        lp.map((v) => v - 0.5),
        null,
      ),
      { clip: 0.2, klBeta: 0 },
      3,
    )
    // Every ratio is e^0.5 > 1.2 and row 0's advantage is positive: its two tokens are held.
    expect((await pushed.clipped.data())[0]).toBeCloseTo(2 / 3, 6)
  })

  it('makes a better-than-its-group reply likelier and a worse one less likely', async () => {
    const logits = tf.variable(randomTensor([6, 4], 7) as tf.Tensor2D)
    const before = await logProbs(logits)
    const l = layout(before, null)
    // Plain gradient descent on the loss (the sampling weights are the current ones).
    for (let i = 0; i < 5; i++) {
      const { grads } = tf.variableGrads(
        () => policyLoss(logits, targets(), l, { clip: 0.2, klBeta: 0 }, 3).loss,
        [logits],
      )
      logits.assign(tf.sub(logits, tf.mul(grads[logits.name], 0.5)))
    }
    const after = await logProbs(logits)
    expect(after[1]).toBeGreaterThan(before[1])
    expect(after[2]).toBeGreaterThan(before[2])
    expect(after[5]).toBeLessThan(before[5])
    // Prompt and padding targets are not trained.
    expect(after[0]).toBeCloseTo(before[0], 6)
    expect(after[3]).toBeCloseTo(before[3], 6)
  })

  it('has the gradient finite differences give', async () => {
    const logits = randomTensor([6, 4], 11) as tf.Tensor2D
    const lp = await logProbs(logits)
    // Ratios near 1 (inside the band) so the surrogate is smooth where it is probed.
    const l = layout(
      lp.map((v, i) => v + 0.05 * Math.sin(i)),
      lp.map((v) => v - 0.3),
    )
    const err = await gradientError(
      (z) => policyLoss(z as tf.Tensor2D, targets(), l, { clip: 0.2, klBeta: 0.5 }, 3).loss,
      [logits],
    )
    expect(err).toBeLessThan(2e-2)
  })
})

describe('reward rules', () => {
  const sample = (text: string, answer: string, tokens = 3) => ({
    text,
    answer,
    tokens,
    question: 'What is 3+4?',
  })

  it('checks answers exactly, numerically and by pattern, and penalizes length', () => {
    const rules = new RewardRules([
      { kind: 'exact', weight: 1 },
      { kind: 'numeric', tolerance: 0.5, weight: 2 },
      { kind: 'regex', pattern: '^\\s*\\d+\\s*$', weight: 0.5 },
      { kind: 'length', target: 4, weight: 1 },
    ])
    expect(rules.describe()).toBe(
      'exact answer ×1, numeric answer (±0.5) ×2, regex /^\\s*\\d+\\s*$/ ×0.5, length over 4 tokens ×1',
    )
    // Right and bare: every rule pays, no length penalty.
    expect(rules.score(sample(' 7 ', '7'))).toEqual({ reward: 3.5, correct: true })
    // Right number in a sentence: numeric only; the exact check fails, so not right.
    expect(rules.score(sample('It is 7.', '7'))).toEqual({ reward: 2, correct: false })
    // Within the tolerance, and 8 tokens (4 over a target of 4: the whole −1).
    expect(rules.score(sample('7.4', '7', 8))).toEqual({ reward: 2 - 1, correct: false })
    expect(lastNumber('from 1,200 to -3.5')).toBe(-3.5)
    expect(lastNumber('none')).toBeNull()
  })

  it('reports a rule that fails with its sample, scores it 0 and goes on', () => {
    const rules = new RewardRules([{ kind: 'numeric', tolerance: 0, weight: 1 }])
    expect(rules.score(sample('7', 'seven'))).toEqual({ reward: 0, correct: false })
    expect(rules.score(sample('8', 'eight'))).toEqual({ reward: 0, correct: false })
    expect(rules.failures[0]).toEqual({
      rule: 'numeric answer (±0)',
      question: 'What is 3+4?',
      reply: '7',
      problem: 'the reference answer "seven" has no number to compare',
    })
    expect(rules.failureCounts.get('numeric answer (±0)')).toBe(2)
  })

  it("pays a reward model's score, and reports a reply it could not score", () => {
    const rules = new RewardRules([
      { kind: 'exact', weight: 1 },
      { kind: 'reward-model', run: 'rm-1', checkpoint: 3, weight: 0.5 },
    ])
    expect(rules.rewardModels.map((m) => m.index)).toEqual([1])
    expect(rules.describe()).toBe('exact answer ×1, reward model rm-1 ×0.5')
    const scored = rules.score({ ...sample('7', '7'), modelScores: new Map([[1, -2]]) })
    expect(scored).toEqual({ reward: 1 - 1, correct: true })
    expect(rules.score(sample('8', '7'))).toEqual({ reward: 0, correct: false })
    expect(rules.failures[0].problem).toMatch(/longer than the reward model's context/)
  })

  it('refuses a pattern that does not compile, naming its field', () => {
    expect(() => new RewardRules([{ kind: 'regex', pattern: '([0-9]', weight: 1 }])).toThrow(
      /train\.grpo\.rewards\.0\.pattern: .*(unterminated|missing)/i,
    )
  })
})

describe('the arithmetic toy task', () => {
  it('writes distinct problems in a seeded order, each with its one answer', () => {
    const a = arithmeticTask({ count: 100, max: 9, operations: ['+'], seed: 1 })
    expect(new Set(a.map((r) => r.prompt)).size).toBe(100)
    for (const r of a) {
      const [, x, y] = /^What is (\d+)\+(\d+)\?$/.exec(r.prompt)!
      expect(Number(r.response)).toBe(Number(x) + Number(y))
    }
    expect(arithmeticTask({ count: 100, max: 9, operations: ['+'], seed: 1 })).toEqual(a)
    expect(arithmeticTask({ count: 100, max: 9, operations: ['+'], seed: 2 })).not.toEqual(a)
    const mixed = arithmeticTask({ count: 50, max: 5, operations: ['-', '*'], seed: 3 })
    expect(
      mixed.some((r) => r.prompt.includes('-')) && mixed.some((r) => r.prompt.includes('*')),
    ).toBe(true)
    expect(mixed.find((r) => r.prompt === 'What is 2-5?')?.response ?? '-3').toBe('-3')
  })
})
