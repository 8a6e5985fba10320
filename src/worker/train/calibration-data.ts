import type { PolicyPrompt } from '../grpo/policy'
import type { ModelConfig } from '../model/config'
import { initialValues } from '../model/params'
import { Rng } from '../../shared/rng'
import { packExamples } from '../sft/pack'
import type { Example } from '../sft/examples'
import { pairRows } from '../sft/preference-rows'
import { trainChar } from '../tokenizer'
import {
  grpoSettings,
  isPolicyRun,
  isPreferenceRun,
  sequenceLengthOf,
  type TrainConfig,
} from './config'
import type { TokenData } from './data'

/**
 * Data shaped like a run of `train.kind`, of random tokens, for timing its step ("Time a
 * step" in the run form): a step's cost depends on the shapes it trains on, not on the
 * values. Rows are full (the most a step can cost):
 *
 * - pretraining: a stream of tokens, sampled in windows of the sequence length;
 * - sft: one conversation a row, its second half trained;
 * - dpo, simpo, reward: pairs of replies as the run lays them out (two rows a pair), DPO's
 *   reference log-probabilities given (the run computes them once, before its first step);
 * - grpo: prompts of a quarter of the sequence, whose sampled replies run to
 *   `grpo.maxNewTokens` (random weights seldom end a reply early), over a character
 *   tokenizer of the vocabulary's size, with its reward-model rules left out (scoring by a
 *   reward model adds one forward pass of that model per reply).
 *
 * Also the weights the run starts from (random): preference, GRPO and LoRA runs need a
 * model to start from.
 */
export async function calibrationData(
  model: ModelConfig,
  train: TrainConfig,
): Promise<{
  data: TokenData
  train: TrainConfig
  initialWeights: Map<string, Float32Array>
}> {
  const V = model.vocabSize
  const T = sequenceLengthOf(train, model.contextLength)
  const rng = new Rng(train.seed)
  const randomIds = (n: number, vocab = V) =>
    Int32Array.from({ length: n }, () => Math.floor(rng.next() * vocab))
  const stream = Uint16Array.from(
    { length: Math.max(50_000, 4 * model.contextLength * train.batchSize) },
    (_, i) => (i * 7919 + 13) % V,
  )
  const base: TokenData = { train: stream, val: stream, vocabSize: V }
  const initialWeights = initialValues(model, rng.fork())
  const rows = Math.max(4, 2 * train.batchSize)
  /** A row-long example whose second half is trained. */
  const example = (): Example => ({
    ids: randomIds(T + 1),
    trained: Uint8Array.from({ length: T + 1 }, (_, i) => (i > T / 2 ? 1 : 0)),
  })

  if (isPreferenceRun(train)) {
    const pairs = () => {
      const pr = pairRows(
        Array.from({ length: rows }, () => ({ chosen: example(), rejected: example() })),
        T,
        0,
      )
      if (train.kind === 'dpo') {
        pr.refChosen = new Float32Array(rows).fill(-T)
        pr.refRejected = new Float32Array(rows).fill(-T)
      }
      return pr
    }
    return {
      data: { ...base, preference: { train: pairs(), val: pairs() } },
      train,
      initialWeights,
    }
  }
  const packed = () => packExamples(Array.from({ length: rows }, example), T, 0)
  if (!isPolicyRun(train))
    return train.kind === 'sft'
      ? { data: { ...base, packed: { train: packed(), val: packed() } }, train, initialWeights }
      : { data: base, train, initialWeights }

  // GRPO: a character tokenizer of (at most) the model's vocabulary decodes the replies.
  const alphabet = Array.from({ length: Math.max(1, Math.min(V - 4, 2000)) }, (_, i) =>
    String.fromCodePoint(0x4e00 + i),
  ).join('')
  const { tokenizer } = await trainChar([alphabet], { byteFallback: false })
  const promptLength = Math.max(1, Math.floor(T / 4))
  const prompts = (): PolicyPrompt[] =>
    Array.from({ length: rows }, () => ({
      ids: randomIds(promptLength, tokenizer.vocabSize),
      answer: '1',
      question: 'calibration',
    }))
  const grpo = grpoSettings(train)
  const rewards = grpo.rewards.filter((r) => r.kind !== 'reward-model')
  return {
    data: {
      ...base,
      packed: { train: packed(), val: packed() },
      prompts: { train: prompts(), val: prompts(), tokenizer },
    },
    train: { ...train, grpo: { ...grpo, rewards } },
    initialWeights,
  }
}
