import type { Store } from '../../store'
import type { RunRow } from '../../store/repos/runs'
import { DEFAULT_CHAT_TEMPLATE } from './chat-template'

/** The chat template a tokenizer came with (an imported model's tokenizer_config.json), or null. */
export function tokenizerChatTemplate(store: Store, tokenizerId: number): string | null {
  const options = store.tokenizers.get(tokenizerId)?.options as { chatTemplate?: unknown } | null
  return typeof options?.chatTemplate === 'string' ? options.chatTemplate : null
}

/** The template a fine-tuning run renders its conversations with: its tokenizer's, else Frugal's. */
export function fineTuningTemplate(store: Store, tokenizerId: number): string {
  return tokenizerChatTemplate(store, tokenizerId) ?? DEFAULT_CHAT_TEMPLATE
}

/**
 * The chat template of a run's model: the one it was fine-tuned with, else its tokenizer's
 * (null for a model that has only been pretrained on a Frugal tokenizer).
 */
export function runChatTemplate(store: Store, run: RunRow): string | null {
  const data = run.data
  return data.chatTemplate ?? tokenizerChatTemplate(store, data.tokenizerId)
}
