import * as tf from '@tensorflow/tfjs-core'
import { readTogether } from '../kernels/host-views'
import { Transformer, type Params } from '../model/model'
import type { Numerics } from '../model/numerics'
import { tokenLogProbs, type PolicyLayout } from '../model/policy-loss'
import { Rng, type RngState } from '../../shared/rng'
import type { GrpoConfig } from '../train/config'
import type { Batch } from '../train/data'
import type { Tokenizer } from '../tokenizer'
import { RewardRules, type Sample, type Scored } from './rewards'
import { sampleReplies, type Reply } from './rollout'
import type { RewardScorer } from './reward-model'

/** A prompt of a GRPO run: its ids up to the assistant's opening, and what answers it. */
export interface PolicyPrompt {
  /** Document start, the conversation through the chat template, the assistant's opening. */
  ids: Int32Array
  /** The reference answer: the conversation's last assistant turn. */
  answer: string
  /** The last user turn, for reports. */
  question: string
}

/** What one batch of sampled replies showed (host numbers, for the step's metrics). */
export interface RolloutStats {
  /** Mean reward of the replies. */
  reward: number
  /** Mean over the groups of their rewards' standard deviation: the signal GRPO learns from. */
  spread: number
  /** Share of groups whose replies all scored alike (no advantage, nothing learned from them). */
  flat: number
  /** Mean reply length in tokens (the end-of-turn token included). */
  length: number
  /** Share of replies the answer checks pass; null without an answer check. */
  accuracy: number | null
}

/** The held-out prompts answered: what a GRPO run is judged by. */
export interface PolicyEvaluation {
  /** Mean reward and share right of `samples` replies per prompt sampled at the run's temperature (pass@1). */
  reward: number
  accuracy: number | null
  /** The same for the greedy reply. */
  greedyReward: number
  greedyAccuracy: number | null
  prompts: number
  samples: number
  /** The first prompt's greedy reply, to show what the model says. */
  example: { question: string; reply: string; correct: boolean | null }
}

interface Rollout {
  batch: Batch
  stats: RolloutStats
  uses: number
}

const utf8 = new TextDecoder('utf-8')

/** Added to each group's standard deviation before dividing (as TRL does): flat groups give 0. */
const STD_EPS = 1e-4

/**
 * GRPO's side of a training step: sample a group of replies to each of B prompts with the
 * current weights, score them with the run's rules, turn rewards into advantages within
 * each group, and lay the replies out as a batch whose loss is policyLoss, with every
 * reply token's log-probability under the sampling weights (π_old) and, with a KL
 * penalty, under the reference model. A batch serves `iterations` steps before new replies
 * are sampled.
 */
export class PolicyRollouts {
  readonly rules: RewardRules
  private readonly rng: Rng
  /** The micro-batches' rollouts, reused until each has served `iterations` steps. */
  private readonly kept: (Rollout | null)[] = []

  constructor(
    private readonly model: Transformer,
    private readonly settings: GrpoConfig,
    private readonly prompts: { train: readonly PolicyPrompt[]; val: readonly PolicyPrompt[] },
    private readonly tokenizer: Pick<Tokenizer, 'vocabSize' | 'decodeBytes'>,
    /** The chat template's end-of-turn tokens: a reply ends at one. */
    private readonly ends: ReadonlySet<number>,
    /** The model the KL penalty holds the policy near (its own Transformer and weights); null without one. */
    private readonly reference: { model: Transformer; params: Params } | null,
    seed: number | RngState,
    /** The reward models of `reward-model` rules, by the rule's index. */
    private readonly scorers: ReadonlyMap<number, RewardScorer> = new Map(),
  ) {
    this.rules = new RewardRules(settings.rewards)
    this.rng = new Rng(seed)
  }

  /** Micro-batch `micro` of this step: its kept rollout if it has steps left, else a new one. */
  async next(
    micro: number,
    B: number,
    params: Params,
    numerics: Numerics,
  ): Promise<{ batch: Batch; stats: RolloutStats; fresh: boolean }> {
    const kept = this.kept[micro]
    if (kept && kept.uses < this.settings.iterations) {
      kept.uses++
      return { batch: kept.batch, stats: kept.stats, fresh: false }
    }
    const rollout = await this.rollout(B, params, numerics)
    this.kept[micro] = rollout
    return { batch: rollout.batch, stats: rollout.stats, fresh: true }
  }

  /**
   * The first `count` held-out prompts answered two ways: greedily, and `group` times each
   * sampled at the run's temperature (a fixed seed, so evaluations compare), whose mean is
   * the pass@1 DeepSeek-R1 reports: what the policy the run trains actually does.
   */
  async evaluate(params: Params, count: number, numerics: Numerics): Promise<PolicyEvaluation> {
    const prompts = this.prompts.val.slice(0, Math.max(1, count))
    const G = this.settings.group
    const greedy = await sampleReplies(
      this.model,
      params,
      prompts.map((p) => p.ids),
      { ...this.sampling(numerics), temperature: 0, rng: new Rng(0) },
    )
    const rows = prompts.flatMap((p) => Array.from({ length: G }, () => p))
    const sampled = await sampleReplies(
      this.model,
      params,
      rows.map((p) => p.ids),
      { ...this.sampling(numerics), temperature: this.settings.temperature, rng: new Rng(0x5eed) },
    )
    const greedyScores = await this.score(prompts, greedy)
    const sampledScores = await this.score(rows, sampled)
    return {
      reward: meanOf(sampledScores.map((s) => s.reward)),
      accuracy: shareRight(sampledScores),
      greedyReward: meanOf(greedyScores.map((s) => s.reward)),
      greedyAccuracy: shareRight(greedyScores),
      prompts: prompts.length,
      samples: G,
      example: {
        question: prompts[0].question,
        reply: this.text(greedy[0]),
        correct: greedyScores[0].correct,
      },
    }
  }

  /** The sampler's state (prompts and replies both draw from it): checkpointed. */
  state(): RngState {
    return this.rng.state()
  }

  /** Free the rollouts kept for reuse, the reward models, and the reference weights (when the run owns them). */
  dispose(ownsReference: boolean): void {
    this.kept.length = 0
    for (const scorer of this.scorers.values()) scorer.dispose()
    if (ownsReference && this.reference) {
      for (const t of Object.values(this.reference.params)) t.dispose()
      this.reference.model.dispose()
    } else this.reference?.model.dispose()
  }

  private sampling(numerics: Numerics) {
    return {
      maxNewTokens: this.settings.maxNewTokens,
      ends: this.ends,
      vocab: this.tokenizer.vocabSize,
      numerics,
    }
  }

  private async rollout(B: number, params: Params, numerics: Numerics): Promise<Rollout> {
    const G = this.settings.group
    const picked = Array.from(
      { length: B },
      () => this.prompts.train[this.rng.int(this.prompts.train.length)],
    )
    // (B·G) rows: each prompt's group is G consecutive rows.
    const rows = picked.flatMap((p) => Array.from({ length: G }, () => p))
    const replies = await sampleReplies(
      this.model,
      params,
      rows.map((p) => p.ids),
      {
        ...this.sampling(numerics),
        temperature: this.settings.temperature,
        rng: this.rng,
      },
    )
    const scored = await this.score(rows, replies)
    const rewards = scored.map((s) => s.reward)
    const advantage = new Float32Array(rows.length)
    let spread = 0
    let flat = 0
    for (let g = 0; g < B; g++) {
      const group = rewards.slice(g * G, (g + 1) * G)
      const mean = group.reduce((a, b) => a + b, 0) / G
      // The sample standard deviation (n − 1), as TRL and DeepSeekMath's code compute it.
      const std = Math.sqrt(group.reduce((a, r) => a + (r - mean) ** 2, 0) / (G - 1))
      spread += std / B
      if (std === 0) flat++
      group.forEach((r, k) => (advantage[g * G + k] = (r - mean) / (std + STD_EPS)))
    }
    const batch = this.layout(rows, replies, advantage)
    await this.logProbs(batch, params, numerics)
    return {
      batch,
      uses: 1,
      stats: {
        reward: meanOf(rewards),
        spread,
        flat: flat / B,
        length: replies.reduce((a, r) => a + r.ids.length, 0) / rows.length,
        accuracy: shareRight(scored),
      },
    }
  }

  /**
   * The rows as a batch: row r holds prompt and reply, inputs s[0 … n−2] and targets
   * s[1 … n−1], right-padded to the longest; only the reply's targets are in the mask.
   */
  private layout(
    rows: readonly PolicyPrompt[],
    replies: readonly Reply[],
    advantage: Float32Array,
  ): Batch {
    const R = rows.length
    const T = Math.max(...rows.map((p, i) => p.ids.length + replies[i].ids.length - 1))
    const N = R * T
    const inputs = new Int32Array(N)
    const targets = new Int32Array(N)
    const positions = new Int32Array(N)
    const mask = new Float32Array(N)
    const tokens = new Float32Array(R)
    rows.forEach((p, r) => {
      const s = [...p.ids, ...replies[r].ids]
      for (let t = 0; t < T; t++) positions[r * T + t] = t
      for (let t = 0; t + 1 < s.length; t++) {
        inputs[r * T + t] = s[t]
        targets[r * T + t] = s[t + 1]
        if (t + 1 >= p.ids.length) mask[r * T + t] = 1
      }
      tokens[r] = replies[r].ids.length
    })
    const layout: PolicyLayout = {
      mask,
      advantage,
      tokens,
      old: new Float32Array(N),
      reference: null,
    }
    return {
      inputs,
      targets,
      B: R,
      T,
      packing: { positions, segments: new Int32Array(N), weights: mask },
      policy: layout,
    }
  }

  /** π_old (the weights that sampled) and π_ref of every target, in one read. */
  private async logProbs(batch: Batch, params: Params, numerics: Numerics): Promise<void> {
    const layout = batch.policy!
    const passes: [Transformer, Params][] = [[this.model, params]]
    if (this.reference && this.settings.klBeta > 0)
      passes.push([this.reference.model, this.reference.params])
    const ids = tf.tensor1d(batch.inputs, 'int32')
    const targets = tf.tensor1d(batch.targets, 'int32')
    const found: tf.Tensor1D[] = []
    try {
      for (const [model, P] of passes) {
        const tables = model.packedTables(
          batch.packing!.positions,
          batch.packing!.segments,
          batch.B,
          batch.T,
        )
        const out = await model.forwardAsync(P, ids, batch.B, batch.T, { tables, numerics })
        Transformer.disposeTables(tables)
        found.push(tokenLogProbs(out.logits, targets))
        tf.dispose([out.logits, ...(out.aux ? [out.aux] : [])])
      }
      const [old, reference] = await readTogether(found)
      layout.old = old
      layout.reference = reference ?? null
    } finally {
      tf.dispose([ids, targets, ...found])
    }
  }

  /** Each reply's reward and rightness: the reward models score them all first, in batches. */
  private async score(
    prompts: readonly PolicyPrompt[],
    replies: readonly Reply[],
  ): Promise<Scored[]> {
    const byRule = new Map<number, (number | undefined)[]>()
    for (const [index, scorer] of this.scorers)
      byRule.set(index, await scorer.score(prompts.map((p, i) => [...p.ids, ...replies[i].ids])))
    return replies.map((reply, i) => {
      const modelScores = new Map<number, number>()
      for (const [index, scores] of byRule)
        if (scores[i] !== undefined) modelScores.set(index, scores[i])
      return this.rules.score({ ...this.sample(prompts[i], reply), modelScores })
    })
  }

  private sample(p: PolicyPrompt, reply: Reply): Sample {
    return {
      text: this.text(reply),
      tokens: reply.ids.length,
      answer: p.answer,
      question: p.question,
    }
  }

  /** A reply's text, its end-of-turn token left out. */
  private text(reply: Reply): string {
    const ids = reply.ended ? reply.ids.slice(0, -1) : reply.ids
    return utf8.decode(this.tokenizer.decodeBytes(ids))
  }
}

const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

/** The share of replies the answer checks pass; null when the rules check no answer. */
function shareRight(scored: readonly Scored[]): number | null {
  const checked = scored.filter((s) => s.correct !== null)
  return checked.length ? checked.filter((s) => s.correct).length / checked.length : null
}
