import { UserError } from '../../shared/errors'
import type { Store } from '../../store'
import { CHATML_TEMPLATE, CHATML_TOKENS, withSpecialTokens } from '../tokenizer/chat-tokens'

/** What a tokenizer made by `addChatTokens` records of where it came from. */
export interface ChatTokenizerOptions {
  /** The tokenizer it extends: the same ids, then `addedTokens`. */
  extends: number
  addedTokens: readonly string[]
  chatTemplate: string
}

/** The tokenizer `tokenizerId` extends with added tokens (its ids unchanged), or null. */
export function extendedTokenizer(store: Store, tokenizerId: number): number | null {
  const options = store.tokenizers.get(tokenizerId)?.options as Partial<ChatTokenizerOptions> | null
  return typeof options?.extends === 'number' ? options.extends : null
}

/**
 * A new tokenizer in the project: `tokenizerId`'s, with ChatML's `<|im_start|>` and
 * `<|im_end|>` added after its last id and ChatML as its chat template. A model trained on
 * the old one can start a fine-tuning run on it: every old id keeps its meaning, and the
 * run gives the model an embedding row for each new token.
 */
export function addChatTokens(
  store: Store,
  tokenizerId: number,
  name?: string,
): { id: number; name: string; vocabSize: number; added: number[] } {
  const base = store.tokenizers.get(tokenizerId)
  const json = store.tokenizers.json(tokenizerId)
  if (!base || json === null)
    throw new UserError('not_found', `There is no tokenizer ${tokenizerId}.`, 'id')
  const chosen = name?.trim() || `${base.name}-chat`
  if (store.tokenizers.byName(chosen))
    throw new UserError('conflict', `A tokenizer named "${chosen}" already exists.`, 'name')
  const extended = withSpecialTokens(json, CHATML_TOKENS)
  const options: ChatTokenizerOptions = {
    extends: tokenizerId,
    addedTokens: CHATML_TOKENS,
    chatTemplate: CHATML_TEMPLATE,
  }
  const id = store.tokenizers.insert({
    name: chosen,
    kind: base.kind,
    vocabSize: extended.tokenizer.vocabSize,
    datasetId: base.datasetId,
    options,
    stats: base.stats,
    json: extended.json,
    createdAt: new Date().toISOString(),
  })
  return { id, name: chosen, vocabSize: extended.tokenizer.vocabSize, added: extended.added }
}
