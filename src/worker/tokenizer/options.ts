import { z } from 'zod'
import { DEFAULT_SPECIAL_TOKENS } from './specials'

/**
 * Training options, with documented defaults (as nanoGPT's GPTConfig): parse with
 * `bpeTrainOptionsSchema.parse(partial)`. Zod only, so the schemas can move to src/shared when
 * the API exposes them.
 */

const specialTokens = z
  .array(z.string().min(1).max(256))
  .max(1024)
  .default(() => [...DEFAULT_SPECIAL_TOKENS])

export const bpeTrainOptionsSchema = z
  .object({
    /**
     * Ids in all: the special tokens, the 256 byte tokens, then one per merge. Training stops
     * early when no pair occurs `minFrequency` times; the tokenizer's `vocabSize` says what it got.
     */
    vocabSize: z.int().min(257).max(262_144).default(4096),
    /** A pair is merged only if it occurs at least this often in the corpus. 1 merges any pair, even one seen once. */
    minFrequency: z.int().min(1).default(2),
    /** Special tokens, given ids 0, 1, … in this order. Roles come from the names (<|bos|>, <|eos|>, <|pad|>). */
    specialTokens,
    /** Pre-tokenization regex: Llama 3's (digits in threes, newlines apart) or GPT-2's. */
    pretokenizer: z.enum(['llama3', 'gpt2']).default('llama3'),
    /** Longest token, in bytes; null for no limit (SentencePiece uses 16). */
    maxTokenBytes: z.int().min(2).nullable().default(null),
    /**
     * Distinct pieces kept while counting. Past it the rarest are dropped (all seen once, then
     * twice, …), which bounds memory on huge corpora and makes counts approximate for rare pieces.
     */
    maxWordTypes: z.int().min(1000).default(4_000_000),
    /** The corpus size in UTF-8 bytes, if known, so progress can report a fraction. */
    totalBytes: z.number().min(0).nullable().default(null),
  })
  .strict()

export type BpeTrainOptions = z.input<typeof bpeTrainOptionsSchema>
export type BpeTrainConfig = z.output<typeof bpeTrainOptionsSchema>

export const charTrainOptionsSchema = z
  .object({
    /** Special tokens, given ids 0, 1, … in this order. */
    specialTokens,
    /**
     * Spell characters missing from the vocabulary as UTF-8 byte tokens <0x00>..<0xFF> (256 more
     * ids), so any text round-trips. Off: they become `unkToken` and the vocabulary is just the
     * characters seen (nanoGPT's Shakespeare has 65).
     */
    byteFallback: z.boolean().default(true),
    /** The unknown token, added after the special tokens when `byteFallback` is off. */
    unkToken: z.string().min(1).max(256).default('<|unk|>'),
    /** A character enters the vocabulary only if it occurs at least this often. */
    minFrequency: z.int().min(1).default(1),
    /** The corpus size in UTF-8 bytes, if known, so progress can report a fraction. */
    totalBytes: z.number().min(0).nullable().default(null),
  })
  .strict()

export type CharTrainOptions = z.input<typeof charTrainOptionsSchema>
export type CharTrainConfig = z.output<typeof charTrainOptionsSchema>
