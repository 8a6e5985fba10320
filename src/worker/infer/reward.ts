import * as tf from '@tensorflow/tfjs-core'
import { UserError } from '../../shared/errors'
import type { ScoredReply } from '../../shared/generate'
import { readTogether } from '../kernels/host-views'
import type { ModelConfig } from '../model/config'
import { Transformer, type Params } from '../model/model'
import { names, scoreSpec } from '../model/params'
import { ChatTemplate, DEFAULT_CHAT_TEMPLATE } from '../sft/chat-template'
import { encodeReply } from '../sft/pairs'
import type { PreferencePair } from '../sft/preference'
import { documentStart } from '../tokenizer'
import { disposeParams, toParams, type LoadedModel } from './load'

export type { ScoredReply } from '../../shared/generate'

/**
 * A reward model's scores of replies to one prompt, best first. Each reply is laid out as
 * the run trained on it (`encodeReply`: the prompt through the chat template with `chat`,
 * else plain text then end-of-text) and scored at its last token. `onScored` hears how many
 * are done; `throwIfCancelled` is called before each reply.
 */
export async function scoreReplies(
  model: LoadedModel,
  prompt: string,
  replies: readonly string[],
  chat: boolean,
  options: { onScored?: (done: number) => void; throwIfCancelled?: () => void } = {},
): Promise<ScoredReply[]> {
  const kind = (model.run.trainConfig as { kind?: unknown } | null)?.kind
  const head = model.weights.get(names.score)
  if (kind !== 'reward' || !head)
    throw new UserError(
      'invalid_params',
      `Run ${model.run.name} is not a reward model: train one with train.kind "reward".`,
      'runId',
    )
  if (replies.length === 0)
    throw new UserError('invalid_params', 'Give at least one reply to score.')
  const { config, tokenizer } = model
  const template = new ChatTemplate(model.chatTemplate ?? DEFAULT_CHAT_TEMPLATE, tokenizer)
  const start = documentStart(tokenizer)
  const params = rewardParams(config, model.weights)
  const net = new Transformer(config, null, 'score')
  try {
    const out: ScoredReply[] = []
    for (const [index, reply] of replies.entries()) {
      options.throwIfCancelled?.()
      const pair: PreferencePair = chat
        ? {
            format: 'chat',
            prompt: [{ role: 'user', content: prompt }],
            chosen: reply,
            rejected: '',
          }
        : { format: 'text', prompt, chosen: reply, rejected: '' }
      const example = encodeReply(pair, reply, tokenizer, template, start)
      if (typeof example === 'string') throw new UserError('invalid_params', example)
      const L = example.ids.length
      if (L > config.contextLength)
        throw new UserError(
          'invalid_params',
          `The prompt with the reply "${reply.slice(0, 40)}" is ${L} tokens, longer than the model's context (${config.contextLength}).`,
        )
      const ids = tf.tensor1d(example.ids, 'int32')
      const { logits, aux } = await net.forwardAsync(params, ids, 1, L)
      // (L, 1) scores: the reply's is at its last token.
      const last = tf.slice(logits, [L - 1, 0], [1, 1])
      const [value] = await readTogether([last])
      tf.dispose([ids, logits, last, ...(aux ? [aux] : [])])
      out.push({ reply, index, score: value[0], tokens: L })
      options.onScored?.(out.length)
    }
    return out.sort((a, b) => b.score - a.score)
  } finally {
    disposeParams(params)
    net.dispose()
  }
}

/** A reward model's weights as tensors, its scalar head included (a `Transformer(…, 'score')`'s). */
export function rewardParams(
  config: ModelConfig,
  weights: ReadonlyMap<string, Float32Array>,
): Params {
  const head = weights.get(names.score)
  if (!head)
    throw new UserError('invalid_params', 'The checkpoint has no reward head (score.weight).')
  const params = toParams(config, weights)
  params[names.score] = tf.tensor(head, scoreSpec(config).shape)
  return params
}
