/**
 * Pre-tokenization: the regex that cuts text into words, numbers, punctuation and whitespace
 * before BPE runs inside each piece (merges never cross a piece boundary).
 *
 * The patterns are written so that JavaScript (flags `gu`), Oniguruma (which Hugging Face's
 * `tokenizers` uses) and Rust's regex crate read them the same way:
 * - `\s` differs between engines (JavaScript counts U+FEFF but not U+0085; Oniguruma the
 *   reverse), so whitespace is spelled out as Unicode's White_Space set, which is Oniguruma's `\s`.
 * - Llama 3 writes its contractions case-insensitively, `(?i:'s|…)`; Node 20 has no regex
 *   modifiers and Unicode case folding would also let `'ſ` (long s) match, so the cases are
 *   spelled out.
 * Every pattern here matches every character of any string (each alternative family covers
 * letters, numbers, whitespace and everything else), so pieces always cover the whole text.
 */

export type PretokenizerName = 'llama3' | 'gpt2'

/** Unicode White_Space: tab..carriage return, NEL, the space separators, line and paragraph separators. */
const WS = '\\t\\n\\v\\f\\r\\u0085\\p{Zs}\\u2028\\u2029'

const CONTRACTIONS = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"

export const PRETOKENIZER_PATTERNS: Readonly<Record<PretokenizerName, string>> = {
  /**
   * Llama 3 / GPT-4 (cl100k): a letter run may take one leading non-letter (usually a space);
   * numbers split into groups of at most three digits; punctuation runs keep trailing newlines;
   * newline runs stand alone; a whitespace run leaves its last space to the next word.
   */
  llama3: [
    CONTRACTIONS,
    '[^\\r\\n\\p{L}\\p{N}]?\\p{L}+',
    '\\p{N}{1,3}',
    ` ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*`,
    `[${WS}]*[\\r\\n]+`,
    `[${WS}]+(?![^${WS}])`,
    `[${WS}]+`,
  ].join('|'),
  /** GPT-2: words, numbers and punctuation runs with an optional leading space. */
  gpt2: [
    "'s|'t|'re|'ve|'m|'ll|'d",
    ' ?\\p{L}+',
    ' ?\\p{N}+',
    ` ?[^${WS}\\p{L}\\p{N}]+`,
    `[${WS}]+(?![^${WS}])`,
    `[${WS}]+`,
  ].join('|'),
}

/**
 * Hugging Face's Digits pre-tokenizer as a split pattern: Rust's `char::is_numeric` is Unicode's
 * Number categories (Nd, Nl, No), which is `\p{N}`. Each digit alone (`individual_digits`,
 * SmolLM's choice), or each run of digits.
 */
export const DIGITS_PATTERNS = { individual: '\\p{N}', runs: '\\p{N}+' } as const

/** Unicode simple case folds beyond ASCII that Oniguruma's `(?i:…)` applies to ASCII letters. */
const EXTRA_FOLDS: Record<string, string> = { s: '\u017f', k: '\u212a' }

/**
 * A split pattern from a tokenizer.json, written for Oniguruma, rewritten so that JavaScript
 * splits the same way: `\s` (anywhere) and `\S` (outside brackets) become the White_Space set,
 * and `(?i:…)` groups of plain letters, such as Llama 3's and GPT-4o's contractions, are spelled
 * out with every case variant (`'s` also matches `'S` and `'ſ`). Our own patterns need no change.
 * A `\S` inside brackets keeps JavaScript's meaning (U+0085 and U+FEFF differ).
 */
export function toJsPattern(source: string): string {
  let out = ''
  let inClass = false
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '\\') {
      const next = source[i + 1] ?? ''
      if (next === 's') out += inClass ? WS : `[${WS}]`
      else if (next === 'S' && !inClass) out += `[^${WS}]`
      else out += c + next
      i++
    } else if (inClass) {
      if (c === ']') inClass = false
      out += c
    } else if (c === '[') {
      inClass = true
      out += c
    } else if (source.startsWith('(?i:', i) && /^\(\?i:[A-Za-z'|]*\)/.test(source.slice(i))) {
      const close = source.indexOf(')', i)
      const body = source.slice(i + 4, close).replace(/[A-Za-z]/g, (ch) => {
        const lower = ch.toLowerCase()
        return `[${lower}${lower.toUpperCase()}${EXTRA_FOLDS[lower] ?? ''}]`
      })
      out += `(?:${body})`
      i = close
    } else out += c
  }
  return out
}

/**
 * Compiles a pre-tokenization pattern as JavaScript reads it: `u` for \p{…}, `y` (sticky) so
 * that `test()` matches exactly at `lastIndex` and no match object is allocated per piece.
 */
export function compilePattern(source: string): RegExp {
  return new RegExp(source, 'uy')
}

/**
 * The end of the piece starting at `pos`: where the pattern's match there ends, or -1 if it
 * does not match there (or matches nothing).
 */
export function matchAt(re: RegExp, text: string, pos: number): number {
  re.lastIndex = pos
  return re.test(text) && re.lastIndex > pos ? re.lastIndex : -1
}

/** The index after the code point at `pos`. */
export function nextCodePoint(text: string, pos: number): number {
  const c = text.charCodeAt(pos)
  if (c >= 0xd800 && c <= 0xdbff && pos + 1 < text.length) {
    const d = text.charCodeAt(pos + 1)
    if (d >= 0xdc00 && d <= 0xdfff) return pos + 2
  }
  return pos + 1
}

/**
 * Calls `onPiece` for each piece of `text`, in order. Pieces cover the whole text: a stretch
 * where the pattern does not match (possible with a pattern loaded from a file) is a piece of
 * its own, as in Hugging Face's Split pre-tokenizer with behaviour "Isolated"; empty matches
 * are skipped.
 */
export function forEachPiece(re: RegExp, text: string, onPiece: (piece: string) => void): void {
  let pos = 0
  let gap = -1
  while (pos < text.length) {
    const end = matchAt(re, text, pos)
    if (end < 0) {
      if (gap < 0) gap = pos
      pos = nextCodePoint(text, pos)
      continue
    }
    if (gap >= 0) {
      onPiece(text.slice(gap, pos))
      gap = -1
    }
    onPiece(text.slice(pos, end))
    pos = end
  }
  if (gap >= 0) onPiece(text.slice(gap))
}

/**
 * The same pieces as `forEachPiece`, for a global (`gu`) pattern: the next match is searched for
 * rather than tried at each position, which is faster where most of the text is between matches
 * (Digits). Empty matches are not pieces.
 */
export function forEachSplit(re: RegExp, text: string, onPiece: (piece: string) => void): void {
  let last = 0
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const end = re.lastIndex
    if (end === m.index) {
      re.lastIndex = nextCodePoint(text, end)
      continue
    }
    if (m.index > last) onPiece(text.slice(last, m.index))
    onPiece(text.slice(m.index, end))
    // onPiece may run other patterns; this one resumes where it was.
    re.lastIndex = last = end
  }
  if (last < text.length) onPiece(text.slice(last))
}

/**
 * The pieces of `text` split by each pattern in turn, each within the pieces of the one before,
 * as Hugging Face runs a Sequence of pre-tokenizers (Digits then ByteLevel's regex is not the
 * same as one combined pattern: a lookahead or a leading space cannot see across a cut). The
 * patterns are JavaScript sources, as `toJsPattern` writes them.
 */
export function pretokenizeSteps(text: string, patterns: readonly string[]): string[] {
  const pieces: string[] = []
  const res = patterns.map((p) => new RegExp(p, 'gu'))
  const run = (level: number, t: string): void => {
    if (level === res.length) pieces.push(t)
    else forEachSplit(res[level], t, (p) => run(level + 1, p))
  }
  run(0, text)
  return pieces
}

/** The pieces of `text`, for inspection and tests. */
export function pretokenize(text: string, pattern: string | RegExp = PRETOKENIZER_PATTERNS.llama3) {
  const re =
    pattern instanceof RegExp && pattern.sticky && pattern.unicode
      ? pattern
      : compilePattern(typeof pattern === 'string' ? pattern : pattern.source)
  const pieces: string[] = []
  forEachPiece(re, text, (p) => pieces.push(p))
  return pieces
}

function isWhiteSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  )
}

/**
 * The first index at or after `from` where a long text can be cut without changing the pieces
 * of the built-in patterns, or `text.length` if there is none. A cut is safe right after a
 * newline that has a non-space character on both sides: no piece of either pattern extends
 * across it, and the lookahead `\s+(?!\S)` sees the same thing on both sides of the cut.
 */
export function safeCut(text: string, from: number): number {
  for (let i = text.indexOf('\n', Math.max(from - 1, 1)); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (i + 1 < text.length && i >= 1) {
      if (!isWhiteSpace(text.charCodeAt(i - 1)) && !isWhiteSpace(text.charCodeAt(i + 1)))
        return i + 1
    }
  }
  return text.length
}
