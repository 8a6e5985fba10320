import { UserError } from '../../shared/errors'
import { fromJSON } from './index'
import { checkSpecialTokens } from './specials'
import type { Tokenizer } from './types'

/** ChatML's role markers (Qwen, SmolLM2 and most open chat models use them). */
export const CHATML_TOKENS: readonly string[] = ['<|im_start|>', '<|im_end|>']

/**
 * ChatML, as Hugging Face templates write it: each turn `<|im_start|>role\n…<|im_end|>\n`,
 * and the assistant's opening as the generation prompt. The reply ends at `<|im_end|>`.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

/**
 * A tokenizer with special tokens added after its last id: every existing id keeps its
 * token (a model trained on it keeps its meaning; only new embedding rows are needed),
 * and the new ones are read in text only where the engine allows special tokens (the
 * chat template's markup). A token it already has is refused, naming it.
 */
export function withSpecialTokens(
  json: string,
  tokens: readonly string[],
): { tokenizer: Tokenizer; json: string; added: number[] } {
  checkSpecialTokens(tokens, 'tokens')
  const base = fromJSON(json)
  for (const t of tokens)
    if (base.tokenToId(t) !== null)
      throw new UserError('conflict', `The tokenizer already has the token ${t}.`, 'tokens')
  const file = JSON.parse(json) as { added_tokens?: Record<string, unknown>[] }
  const added = tokens.map((_, i) => base.vocabSize + i)
  file.added_tokens = [
    ...(file.added_tokens ?? []),
    ...tokens.map((content, i) => ({
      id: added[i],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
  ]
  const tokenizer = fromJSON(JSON.stringify(file))
  // What makes the extension safe for a trained model: the old ids mean what they meant.
  if (tokenizer.vocabSize !== base.vocabSize + tokens.length)
    throw new Error(`Adding ${tokens.length} tokens gave ${tokenizer.vocabSize} ids.`)
  for (const [i, t] of tokens.entries())
    if (tokenizer.tokenToId(t) !== added[i]) throw new Error(`${t} did not get id ${added[i]}.`)
  return { tokenizer, json: tokenizer.serialize(), added }
}
