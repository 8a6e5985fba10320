import { UserError } from '../../shared/errors'

/** Special tokens a new tokenizer gets unless told otherwise; they take ids 0, 1, 2. */
export const DEFAULT_SPECIAL_TOKENS: readonly string[] = ['<|bos|>', '<|eos|>', '<|pad|>']

/** A token of tokenizer.json's `added_tokens`, matched in text before pre-tokenization. */
export interface AddedToken {
  readonly id: number
  readonly content: string
  /**
   * Matched in the normalized text rather than in the raw text, as Hugging Face does for
   * `normalized: true`. Default false.
   */
  readonly normalized?: boolean
}

/** An added token with `special: true`: a control token (document boundaries, chat roles). */
export type SpecialToken = AddedToken

/** The ids the training engine needs; null where the tokenizer has no such token. */
export interface SpecialIds {
  readonly bos: number | null
  readonly eos: number | null
  readonly pad: number | null
}

/**
 * tokenizer.json does not say which special token begins or ends a document (Hugging Face keeps
 * that in tokenizer_config.json), so roles are read from the names, ours first, then the usual
 * ones of GPT-2, Llama and BERT-style files.
 */
const ROLE_NAMES: Record<keyof SpecialIds, readonly string[]> = {
  bos: ['<|bos|>', '<|begin_of_text|>', '<s>', '<|startoftext|>', '<|endoftext|>'],
  eos: ['<|eos|>', '<|end_of_text|>', '</s>', '<|endoftext|>'],
  pad: ['<|pad|>', '<pad>', '[PAD]'],
}

export function specialRoles(specials: readonly SpecialToken[]): SpecialIds {
  const find = (names: readonly string[]) => {
    for (const name of names) {
      const found = specials.find((s) => s.content === name)
      if (found) return found.id
    }
    return null
  }
  return { bos: find(ROLE_NAMES.bos), eos: find(ROLE_NAMES.eos), pad: find(ROLE_NAMES.pad) }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Rejects special-token lists that could not be stored or matched unambiguously. */
export function checkSpecialTokens(tokens: readonly string[], field = 'specialTokens'): void {
  const seen = new Set<string>()
  for (const token of tokens) {
    if (token.length === 0)
      throw new UserError('invalid_params', 'A special token cannot be empty.', field)
    if (LONE_SURROGATE.test(token))
      throw new UserError(
        'invalid_params',
        `The special token ${JSON.stringify(token)} is not valid Unicode text.`,
        field,
      )
    if (seen.has(token))
      throw new UserError('invalid_params', `The special token ${token} is listed twice.`, field)
    seen.add(token)
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/**
 * Finds added tokens written in text, leftmost first and the longest at a position (what Hugging
 * Face's added-vocabulary matcher does), so that `encode(text, { allowSpecial: true })` gives the
 * ids Hugging Face's `encode` gives.
 */
export class SpecialMatcher {
  private readonly re: RegExp | null
  private readonly ids = new Map<string, number>()

  constructor(tokens: readonly AddedToken[]) {
    for (const t of tokens) this.ids.set(t.content, t.id)
    const alternatives = [...this.ids.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp)
    this.re = alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'gu') : null
  }

  /**
   * Calls `onText` for each stretch of ordinary text and `onSpecial` for each token found, in
   * order. A match whose id `skip` accepts stays ordinary text, and the search goes on after it,
   * as Hugging Face does for special tokens with `encode_special_tokens`.
   */
  split(
    text: string,
    onText: (text: string) => void,
    onSpecial: (id: number) => void,
    skip?: (id: number) => boolean,
  ): void {
    const re = this.re
    if (re === null) {
      onText(text)
      return
    }
    re.lastIndex = 0
    let last = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(text)) !== null) {
      const id = this.ids.get(m[0])!
      if (skip?.(id) === true) continue
      if (m.index > last) onText(text.slice(last, m.index))
      onSpecial(id)
      last = re.lastIndex
    }
    if (last < text.length) onText(text.slice(last))
  }
}
