/**
 * Tokenizers for the training engine: byte-level BPE (trained here, exact round trip of any
 * text) and a character tokenizer. Both are stored and exported as a Hugging Face
 * tokenizer.json; `fromJSON` reads them back, and reads the byte-level BPE files of GPT-2,
 * Llama 3, Qwen 2/2.5/3 and SmolLM2 too.
 */
import { BpeTokenizer, type BpeEncoderOptions } from './bpe-encode'
import { CharTokenizer } from './char'
import { parseJson } from './hf-json'
import type { Tokenizer } from './types'

export { BpeTokenizer, type BpeEncoderOptions } from './bpe-encode'
export { trainBpe, type BpeTrainResult, type BpeTrainStats } from './bpe-train'
export { CharTokenizer, trainChar, type CharTrainStats } from './char'
export { documentStart } from './document-start'
export type { HfTokenizerJson } from './hf-json'
export {
  bpeTrainOptionsSchema,
  charTrainOptionsSchema,
  type BpeTrainOptions,
  type CharTrainOptions,
} from './options'
export {
  pretokenize,
  PRETOKENIZER_PATTERNS,
  toJsPattern,
  type PretokenizerName,
} from './pretokenize'
export {
  DEFAULT_SPECIAL_TOKENS,
  type AddedToken,
  type SpecialIds,
  type SpecialToken,
} from './specials'
export type { ProgressCallback, TextSource, TrainProgress } from './train-common'
export type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerKind } from './types'

/**
 * A tokenizer from tokenizer.json (the text stored in the project, or a parsed object). Throws a
 * UserError saying what is unsupported for files Frugal cannot run with Hugging Face's exact ids.
 */
export function fromJSON(json: string | object, options?: BpeEncoderOptions): Tokenizer {
  const parsed = parseJson(json)
  return parsed.kind === 'bpe' ? new BpeTokenizer(parsed, options) : new CharTokenizer(parsed)
}
