import type { Store } from '../../store'
import type { RunRow } from '../../store/repos/runs'
import { UserError } from '../../shared/errors'
import { fromJSON } from '../tokenizer'
import type { TokenData } from '../train/data'
import type { RunData } from '../train/setup'
import { ChatTemplate } from './chat-template'
import { encodeConversations } from './examples'
import { packExamples } from './pack'

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
  const data = run.data as RunData
  if (data.datasetId === null || data.chatTemplate === undefined)
    throw new UserError('invalid_params', `Run "${run.name}" has no conversations to fine-tune on.`)
  const json = store.tokenizers.json(data.tokenizerId)
  if (!json) throw new UserError('not_found', "The run's tokenizer no longer exists.")
  const tokenizer = fromJSON(json)
  const examples = encodeConversations(
    store,
    data.datasetId,
    tokenizer,
    new ChatTemplate(data.chatTemplate, tokenizer),
    {
      maxTokens: contextLength + 1,
      valFraction: data.valFraction,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    },
  )
  const pad = tokenizer.pad ?? tokenizer.eos ?? 0
  const train = packExamples(examples.train, contextLength, pad)
  const val =
    examples.val === examples.train ? train : packExamples(examples.val, contextLength, pad)
  const tokens = examples.train.reduce((n, e) => n + e.ids.length, 0)
  const fill = tokens / (train.count * (contextLength + 1))
  o.log(
    'info',
    `Fine-tuning on ${examples.train.length.toLocaleString('en')} conversations (${
      val === train
        ? 'too few to hold any out: validation uses them too'
        : `${examples.val.length.toLocaleString('en')} held out for validation`
    }), ${examples.trainedTokens.toLocaleString('en')} assistant tokens to learn, packed into ${train.count.toLocaleString('en')} sequences of ${contextLength} (${(fill * 100).toFixed(0)}% filled).`,
  )
  if (examples.skipped > 0) {
    o.log(
      'warn',
      `Left out ${examples.skipped.toLocaleString('en')} document${examples.skipped === 1 ? '' : 's'} that cannot be fine-tuned on${
        examples.skipped > PROBLEMS_LOGGED ? ` (the first ${PROBLEMS_LOGGED} follow)` : ''
      }.`,
    )
    for (const p of examples.problems.slice(0, PROBLEMS_LOGGED))
      o.log('warn', `${p.source}: ${p.problem}`)
  }
  return { train: train.inputs, val: val.inputs, vocabSize, packed: { train, val } }
}
