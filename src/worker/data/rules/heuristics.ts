import { fired, kept, type Rule } from './types'
import { pct } from './gopher-repetition'
import { round } from '../text/view'

const URL_RE = /\b(?:https?:\/\/|www\.)\S+/gi

/** NeMo Curator's character-class heuristics: ratios of symbols, digits, URLs, whitespace, brackets. */
export const heuristics: Rule<'heuristics'> = (view, p) => {
  const text = view.text
  const n = Math.max(1, text.length)
  let alnum = 0
  let digits = 0
  let space = 0
  let brackets = 0
  for (const ch of text) {
    if (/\s/.test(ch)) space++
    else if (/[\p{L}\p{N}]/u.test(ch)) {
      alnum++
      if (ch >= '0' && ch <= '9') digits++
    } else if ('[]{}()<>'.includes(ch)) brackets++
  }
  let urlChars = 0
  for (const m of text.matchAll(URL_RE)) urlChars += m[0].length
  const lines = view.nonEmptyLines
  const longest = view.wordStats.longestToken
  const measures = {
    nonAlphanumericRatio: round((n - alnum - space) / n),
    digitRatio: round(digits / n),
    urlRatio: round(urlChars / n),
    whitespaceRatio: round(space / n),
    bracketRatio: round(brackets / n),
    uniqueLineRatio: round(lines.length ? new Set(lines).size / lines.length : 1),
    longestWord: longest,
  }
  const over: [string, number, number][] = [
    ['non_alphanumeric', measures.nonAlphanumericRatio, p.maxNonAlphanumericRatio],
    ['digits', measures.digitRatio, p.maxDigitRatio],
    ['url_chars', measures.urlRatio, p.maxUrlRatio],
    ['whitespace', measures.whitespaceRatio, p.maxWhitespaceRatio],
    ['brackets', measures.bracketRatio, p.maxBracketRatio],
  ]
  for (const [check, value, limit] of over)
    if (value > limit)
      return fired(
        'remove',
        check,
        value,
        limit,
        measures,
        `${check.replace('_', ' ')}: ${pct(value)} of characters (limit ${pct(limit)}).`,
      )
  if (measures.uniqueLineRatio < p.minUniqueLineRatio)
    return fired(
      'remove',
      'unique_lines',
      measures.uniqueLineRatio,
      p.minUniqueLineRatio,
      measures,
      `Only ${pct(measures.uniqueLineRatio)} of lines are unique (minimum ${pct(p.minUniqueLineRatio)}).`,
    )
  if (longest > p.maxWordLength)
    return fired(
      'remove',
      'word_length',
      longest,
      p.maxWordLength,
      measures,
      `A ${longest}-character word (limit ${p.maxWordLength}).`,
    )
  return kept(measures)
}
