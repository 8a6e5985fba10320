import { UserError } from '../../shared/errors'
import type { RewardRule } from '../train/config'

/** A sampled reply as the rules see it. */
export interface Sample {
  /** The reply's text (its end-of-turn token left out). */
  text: string
  /** Its tokens, the end-of-turn token included. */
  tokens: number
  /** The reference answer: the last assistant turn of the prompt's conversation. */
  answer: string
  /** The prompt (its last user turn), for reports. */
  question: string
  /** Reward-model rules' scores of this reply, by the rule's index (absent: it could not be scored). */
  modelScores?: ReadonlyMap<number, number>
}

/** A rule that failed on a sample: reported with it, and scored 0. */
export interface RuleFailure {
  rule: string
  question: string
  reply: string
  problem: string
}

export interface Scored {
  /** Σ weight · score over the rules. */
  reward: number
  /**
   * The answer checks (exact, numeric) all passed: the reply is right. Null when the run
   * has no answer check (a format or length reward alone says nothing about being right).
   */
  correct: boolean | null
}

/** The rules of a GRPO run, compiled once: a bad pattern is refused before training starts. */
export class RewardRules {
  private readonly rules: { rule: RewardRule; score: (s: Sample) => number }[]
  /** Failures so far, in order (the run logs the first of each rule). */
  readonly failures: RuleFailure[] = []
  /** Failures counted per rule name. */
  readonly failureCounts = new Map<string, number>()

  constructor(rules: readonly RewardRule[]) {
    this.rules = rules.map((rule, i) => ({ rule, score: compile(rule, i) }))
  }

  /** Whether any rule checks the answer (so accuracy means something). */
  get checksAnswers(): boolean {
    return this.rules.some(({ rule }) => isAnswerCheck(rule))
  }

  /** One reply's reward and whether it is right; a rule that throws counts 0 and is recorded. */
  score(s: Sample): Scored {
    let reward = 0
    let correct: boolean | null = null
    for (const { rule, score } of this.rules) {
      let value: number
      try {
        value = score(s)
        if (!Number.isFinite(value)) throw new Error(`it gave ${value}`)
      } catch (err) {
        this.recordFailure(rule, s, err)
        value = 0
      }
      reward += rule.weight * value
      if (isAnswerCheck(rule)) correct = (correct ?? true) && value === 1
    }
    return { reward, correct }
  }

  /** The reward-model rules, with their index (their scores come in `Sample.modelScores`). */
  get rewardModels(): { index: number; rule: Extract<RewardRule, { kind: 'reward-model' }> }[] {
    return this.rules.flatMap(({ rule }, index) =>
      rule.kind === 'reward-model' ? [{ index, rule }] : [],
    )
  }

  /** The rules in words, for the run's log: "exact answer ×1, regex /^\d+$/ ×0.5". */
  describe(): string {
    return this.rules.map(({ rule }) => `${ruleName(rule)} ×${rule.weight}`).join(', ')
  }

  private recordFailure(rule: RewardRule, s: Sample, err: unknown): void {
    const name = ruleName(rule)
    this.failureCounts.set(name, (this.failureCounts.get(name) ?? 0) + 1)
    if (this.failures.length < 100)
      this.failures.push({
        rule: name,
        question: s.question,
        reply: s.text,
        problem: err instanceof Error ? err.message : String(err),
      })
  }
}

const isAnswerCheck = (rule: RewardRule) => rule.kind === 'exact' || rule.kind === 'numeric'

function ruleName(rule: RewardRule): string {
  switch (rule.kind) {
    case 'exact':
      return 'exact answer'
    case 'numeric':
      return `numeric answer (±${rule.tolerance})`
    case 'regex':
      return `regex /${rule.pattern}/`
    case 'length':
      return `length over ${rule.target} tokens`
    case 'reward-model':
      return `reward model ${rule.run}`
  }
}

/** A rule as a function of a sample. Patterns compile here, so a bad one names its field. */
function compile(rule: RewardRule, index: number): (s: Sample) => number {
  switch (rule.kind) {
    case 'exact':
      return (s) => (normalize(s.text) === normalize(s.answer) ? 1 : 0)
    case 'numeric':
      return (s) => {
        const want = lastNumber(s.answer)
        if (want === null)
          throw new Error(`the reference answer "${clip(s.answer)}" has no number to compare`)
        const got = lastNumber(s.text)
        return got !== null && Math.abs(got - want) <= rule.tolerance ? 1 : 0
      }
    case 'regex': {
      let re: RegExp
      try {
        re = new RegExp(rule.pattern, 'u')
      } catch (err) {
        throw new UserError(
          'invalid_params',
          `train.grpo.rewards.${index}.pattern: ${(err as Error).message}`,
          `train.grpo.rewards.${index}.pattern`,
        )
      }
      return (s) => (re.test(s.text) ? 1 : 0)
    }
    case 'length':
      return (s) => -Math.min(1, Math.max(0, s.tokens - rule.target) / rule.target)
    case 'reward-model':
      // Scored in a batch beforehand (policy.ts); a reply it could not score is reported.
      return (s) => {
        const score = s.modelScores?.get(index)
        if (score === undefined)
          throw new Error("the prompt with the reply is longer than the reward model's context")
        return score
      }
  }
}

/** Whitespace runs as one space, ends trimmed: "It is 14.\n" and " It is  14." are equal. */
const normalize = (text: string) => text.replace(/\s+/g, ' ').trim()

/** The last number written in a text (digits with an optional sign, decimals and thousands commas). */
export function lastNumber(text: string): number | null {
  const found = text.match(/-?\d[\d,]*(?:\.\d+)?|-?\.\d+/g)
  if (!found) return null
  const value = Number(found[found.length - 1].replace(/,/g, ''))
  return Number.isFinite(value) ? value : null
}

const clip = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}…` : text)
