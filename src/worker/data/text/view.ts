/**
 * A document's text with its derived views (lines, paragraphs, tokens) computed once
 * and shared by every rule that reads the same text. Rules that change the text make a
 * new view.
 */

/** Words keep internal apostrophes, hyphens and dots ("don't", "e-mail", "3.14"). */
const TOKEN_RE = /[\p{L}\p{M}\p{N}]+(?:[-'’.][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]+/gu
const WORD_START_RE = /^[\p{L}\p{M}\p{N}]/u
/**
 * TOKEN_RE restricted to ASCII, where \p{L}\p{M}\p{N} is [A-Za-z0-9] (and the
 * apostrophe U+2019 cannot occur): the same tokens, without Unicode property lookups.
 * Most web text is ASCII, and tokenizing is shared by every word-level rule.
 */
const ASCII_TOKEN_RE = /[A-Za-z0-9]+(?:[-'.][A-Za-z0-9]+)*|[^\sA-Za-z0-9]+/g
// eslint-disable-next-line no-control-regex -- the whole ASCII range, NUL included
const NON_ASCII_RE = /[^\u0000-\u007f]/
/** Scripts written without spaces: each character counts as a word. */
const CJK_RE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u
const CJK_RUN_RE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/gu

export class TextView {
  private _lines?: string[]
  private _nonEmptyLines?: string[]
  private _paragraphs?: string[]
  private _tokens?: string[]
  private _words?: string[]
  private _ascii?: boolean

  constructor(readonly text: string) {}

  /** Whether the text is pure ASCII: rules take cheaper paths that give the same results. */
  get ascii(): boolean {
    return (this._ascii ??= !NON_ASCII_RE.test(this.text))
  }

  /** Lines split on "\n", untrimmed, empty ones included. */
  get lines(): string[] {
    return (this._lines ??= this.text.split('\n'))
  }

  /** Lines with content, trimmed. */
  get nonEmptyLines(): string[] {
    return (this._nonEmptyLines ??= this.lines.map((l) => l.trim()).filter((l) => l !== ''))
  }

  /** Blocks separated by blank lines (two or more newlines). */
  get paragraphs(): string[] {
    return (this._paragraphs ??= this.text
      .trim()
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter((p) => p !== ''))
  }

  /** Words and punctuation runs, as a word tokenizer would give them. CJK characters are single tokens. */
  get tokens(): string[] {
    if (this._tokens) return this._tokens
    if (this.ascii) return (this._tokens = this.text.match(ASCII_TOKEN_RE) ?? [])
    const text = CJK_RE.test(this.text) ? this.text.replace(CJK_RUN_RE, ' $& ') : this.text
    return (this._tokens = text.match(TOKEN_RE) ?? [])
  }

  /** Tokens that are words (start with a letter or digit). */
  get words(): string[] {
    if (this._words) return this._words
    return (this._words = this.ascii
      ? this.tokens.filter((t) => isAsciiWordChar(t.charCodeAt(0)))
      : this.tokens.filter((t) => WORD_START_RE.test(t)))
  }
}

function isAsciiWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)
}

/** Whether a text is mostly in a script written without spaces. */
export function isSpacelessLanguage(language: string | null): boolean {
  return language === 'zh' || language === 'ja' || language === 'ko' || language === 'th'
}

/**
 * Tokens for a rough size estimate: ~4 characters per token for Latin and similar
 * scripts, one per CJK character (what BPE tokenizers tend to give). A guide, not a count.
 */
export function estimateTokens(text: string): number {
  let cjk = 0
  let other = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c <= 32) continue
    if (
      (c >= 0x3040 && c <= 0x30ff) ||
      (c >= 0x3400 && c <= 0x9fff) ||
      (c >= 0xac00 && c <= 0xd7af)
    )
      cjk++
    else other++
  }
  return cjk + Math.ceil(other / 4)
}

/** Round a measurement for storage: 4 significant digits is plenty to explain a decision. */
export function round(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value
  return Number(value.toPrecision(4))
}

/** Counts of duplicate elements and the characters they hold (datatrove's find_duplicates). */
export function findDuplicates(items: readonly string[]): { elements: number; chars: number } {
  const seen = new Set<string>()
  let elements = 0
  let chars = 0
  for (const item of items) {
    if (seen.has(item)) {
      elements++
      chars += item.length
    } else seen.add(item)
  }
  return { elements, chars }
}
