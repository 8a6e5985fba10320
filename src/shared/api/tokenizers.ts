import { z } from 'zod'
import { method } from './define'
import { filePath, noParams } from './common'

export interface TokenizerSummary {
  id: number
  name: string
  kind: 'bpe' | 'char'
  vocabSize: number
  datasetId: number | null
  createdAt: string
  /** Bytes of text per token on its training corpus (compression), when measured. */
  bytesPerToken: number | null
}

export interface Tokenization {
  ids: number[]
  /** Each token as text (a piece of a character shows as its UTF-8 bytes, e.g. <0xE2>). */
  pieces: string[]
  bytes: number
}

const tokenizerId = z.int().positive()

/** Tokenizers in the project (training one is the `tokenizer.train` job). */
export const tokenizersApi = {
  'tokenizers.list': method<TokenizerSummary[]>()(noParams),
  /** Encode a sample text, to see how the tokenizer cuts it. */
  'tokenizers.encode': method<Tokenization>()(
    z
      .object({ id: tokenizerId, text: z.string().max(20_000, 'Try at most 20,000 characters.') })
      .strict(),
  ),
  /** Write the Hugging Face tokenizer.json to a file. */
  'tokenizers.export': method<{ path: string; bytes: number }>()(
    z
      .object({ id: tokenizerId, destination: filePath, overwrite: z.boolean().default(false) })
      .strict(),
  ),
  'tokenizers.delete': method<TokenizerSummary[]>()(z.object({ id: tokenizerId }).strict()),
  /**
   * A new tokenizer: this one with ChatML's <|im_start|> and <|im_end|> added after its
   * last id (every other id unchanged) and ChatML as its chat template, for fine-tuning a
   * model trained on this one into a chat model.
   */
  'tokenizers.addChatTokens': method<TokenizerSummary>()(
    z
      .object({
        id: tokenizerId,
        /** Default: the tokenizer's name with "-chat". */
        name: z.string().trim().max(100).optional(),
      })
      .strict(),
  ),
}
