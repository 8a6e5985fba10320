import type { HfTokenizerJson } from './hf-json'
import type { SpecialIds, SpecialToken } from './specials'

export type TokenizerKind = 'bpe' | 'char'

export interface EncodeOptions {
  /**
   * Read special tokens written in the text (`<|eos|>`) as their ids, as Hugging Face's `encode`
   * does. Default false: training text that happens to contain `<|eos|>` stays ordinary text and
   * cannot fake a document boundary; the engine adds special ids itself.
   */
  allowSpecial?: boolean
}

export interface DecodeOptions {
  /** Leave special tokens out of the text. Default false. */
  skipSpecial?: boolean
}

/**
 * What the training engine uses. `decode(encode(s)) === s` for every well-formed string;
 * a lone surrogate (not representable in UTF-8) is encoded as U+FFFD, as TextEncoder does.
 * A tokenizer read from a file with the NFC normalizer (Qwen) gives back the NFC form instead,
 * as Hugging Face does.
 */
export interface Tokenizer extends SpecialIds {
  readonly kind: TokenizerKind
  /** Number of ids, special tokens included: the model's embedding rows. */
  readonly vocabSize: number
  readonly specialTokens: readonly SpecialToken[]
  encode(text: string, options?: EncodeOptions): Int32Array
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string
  /** The UTF-8 bytes of `ids`, for streaming output through a `TextDecoder` with `{ stream: true }`. */
  decodeBytes(ids: ArrayLike<number>, options?: DecodeOptions): Uint8Array
  /** The token as tokenizer.json writes it (byte-level BPE: `Ġthe`), or null if out of range. */
  idToToken(id: number): string | null
  tokenToId(token: string): number | null
  /** The Hugging Face tokenizer.json, as an object (so `JSON.stringify(tokenizer)` writes it). */
  toJSON(): HfTokenizerJson
  /** The Hugging Face tokenizer.json text: the form stored in the project and exported. */
  serialize(): string
}
