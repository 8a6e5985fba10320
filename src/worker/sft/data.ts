import type { Store } from '../../store'
import type { RunRow } from '../../store/repos/runs'
import { UserError } from '../../shared/errors'
import { fromJSON } from '../tokenizer'
import type { TokenData } from '../train/data'
import { ChatTemplate } from './chat-template'
import { encodeConversations } from './examples'
import { packExamples } from './pack'
import { encodePairs } from './pairs'
import { pairRows } from './preference-rows'
import {
  grpoSettings,
  isPolicyRun,
  isPreferenceRun,
  isRewardRun,
  trainConfigSchema,
} from '../train/config'
import { policyPrompts } from '../grpo/prompts'
import { RewardRules } from '../grpo/rewards'

/** How many of the documents left out are named one by one in the run's log. */
const PROBLEMS_LOGGED = 10

/**
 * A fine-tuning run's data: its dataset's conversations through the run's chat template,
 * packed into rows of the context length. Encoded at every start (a resumed run packs the
 * same rows: the encoding and packing are deterministic); conversations are few and short
 * next to a pretraining corpus, so this takes seconds.
 */
export function fineTuningData(
  store: Store,
  run: RunRow,
  contextLength: number,
  vocabSize: number,
  o: {
    signal?: AbortSignal
    onProgress?: (done: number, total: number) => void
    log: (level: 'info' | 'warn', message: string) => void
  },
): TokenData {
  const data = run.data
  const train = trainConfigSchema.parse(run.trainConfig)
  if (data.chatTemplate === undefined || (data.datasetId === null && !isPreferenceRun(train)))
    throw new UserError('invalid_params', `Run "${run.name}" has no conversations to fine-tune on.`)
  const json = store.tokenizers.json(data.tokenizerId)
  if (!json) throw new UserError('not_found', "The run's tokenizer no longer exists.")
  const tokenizer = fromJSON(json)
  const template = new ChatTemplate(data.chatTemplate, tokenizer)
  const pad = tokenizer.pad ?? tokenizer.eos ?? 0
  if (isPreferenceRun(train)) {
    const reward = isRewardRun(train)
    const pairs = encodePairs(store, data.datasetId, train.comparisons, tokenizer, template, {
      // A reward model reads its score at a reply's last token, which must be an input.
      maxTokens: reward ? contextLength : contextLength + 1,
      ratings: reward && train.comparisons,
      valFraction: data.valFraction,
      ...(o.signal ? { signal: o.signal } : {}),
    })
    const trainRows = pairRows(pairs.train, contextLength, pad)
    const valRows = pairs.val === pairs.train ? trainRows : pairRows(pairs.val, contextLength, pad)
    o.log(
      'info',
      `Learning from ${pairs.train.length.toLocaleString('en')} preference pairs${
        pairs.fromComparisons > 0
          ? ` (${pairs.fromComparisons.toLocaleString('en')} of them chosen in Evaluate's A/B view)`
          : ''
      }${
        pairs.fromRatings > 0
          ? ` (${pairs.fromRatings.toLocaleString('en')} of them from 1-5 ratings of one prompt's outputs)`
          : ''
      }, ${
        pairs.val === pairs.train
          ? 'too few to hold any out: validation uses them too'
          : `${pairs.val.length.toLocaleString('en')} held out for validation`
      }.`,
    )
    logProblems(pairs, 'preference pair', o.log)
    return {
      train: trainRows.rows.inputs,
      val: valRows.rows.inputs,
      vocabSize,
      packed: { train: trainRows.rows, val: valRows.rows },
      preference: { train: trainRows, val: valRows },
    }
  }
  if (data.datasetId === null)
    throw new UserError('invalid_params', `Run "${run.name}" has no conversations to fine-tune on.`)
  const examples = encodeConversations(store, data.datasetId, tokenizer, template, {
    maxTokens: contextLength + 1,
    valFraction: data.valFraction,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  })
  const rows = packExamples(examples.train, contextLength, pad)
  const val =
    examples.val === examples.train ? rows : packExamples(examples.val, contextLength, pad)
  if (isPolicyRun(train)) {
    const prompts = {
      train: policyPrompts(examples.train),
      val: policyPrompts(examples.val),
      tokenizer,
    }
    const grpo = grpoSettings(train)
    o.log(
      'info',
      `Reinforcing on ${prompts.train.length.toLocaleString('en')} prompts (${
        examples.val === examples.train
          ? 'too few to hold any out: validation uses them too'
          : `${prompts.val.length.toLocaleString('en')} held out for validation`
      }), ${grpo.group} replies sampled for each, rewarded by: ${new RewardRules(grpo.rewards).describe()}.`,
    )
    logProblems(examples, 'document', o.log)
    return { train: rows.inputs, val: val.inputs, vocabSize, packed: { train: rows, val }, prompts }
  }
  const tokens = examples.train.reduce((n, e) => n + e.ids.length, 0)
  const fill = tokens / (rows.count * (contextLength + 1))
  o.log(
    'info',
    `Fine-tuning on ${examples.train.length.toLocaleString('en')} conversations (${
      val === rows
        ? 'too few to hold any out: validation uses them too'
        : `${examples.val.length.toLocaleString('en')} held out for validation`
    }), ${examples.trainedTokens.toLocaleString('en')} assistant tokens to learn, packed into ${rows.count.toLocaleString('en')} sequences of ${contextLength} (${(fill * 100).toFixed(0)}% filled).`,
  )
  logProblems(examples, 'document', o.log)
  return { train: rows.inputs, val: val.inputs, vocabSize, packed: { train: rows, val } }
}

/** What was left out, counted, and the first few named with their source. */
function logProblems(
  found: { skipped: number; problems: readonly { source: string; problem: string }[] },
  what: string,
  log: (level: 'info' | 'warn', message: string) => void,
): void {
  if (found.skipped === 0) return
  log(
    'warn',
    `Left out ${found.skipped.toLocaleString('en')} ${what}${found.skipped === 1 ? '' : 's'} that cannot be trained on${
      found.skipped > PROBLEMS_LOGGED ? ` (the first ${PROBLEMS_LOGGED} follow)` : ''
    }.`,
  )
  for (const p of found.problems.slice(0, PROBLEMS_LOGGED)) log('warn', `${p.source}: ${p.problem}`)
}
