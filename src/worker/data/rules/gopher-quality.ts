import { fired, kept, type Rule } from './types'
import { pct } from './gopher-repetition'
import { isSpacelessLanguage, round } from '../text/view'

export const STOP_WORDS = new Set(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'])
const ALPHA_RE = /\p{L}/u
const BULLET_RE = /^\s*[•\-‣◦⁃∙*]/u

/**
 * Gopher's quality filter (Rae et al. 2021): document length in words, mean word length,
 * symbol ratios, bullet and ellipsis lines, words with letters, English stop words.
 * Word-length and stop-word checks apply only where they mean something: not to
 * languages written without spaces, and stop words to English only.
 */
export const gopherQuality: Rule<'gopher_quality'> = (view, p, ctx) => {
  const text = view.text
  const tokens = view.tokens
  const words = view.words
  const nTokens = Math.max(1, tokens.length)
  const spaceless = isSpacelessLanguage(ctx.language)

  let letters = 0
  for (const w of words) letters += w.length
  const meanWordLength = words.length ? letters / words.length : 0
  const hashes = countOf(text, '#')
  const ellipses = countOf(text, '...') + countOf(text, '…')
  const lines = view.lines
  const bulletLines = lines.filter((l) => BULLET_RE.test(l)).length
  const ellipsisLines = lines.filter((l) => /(\.\.\.|…)\s*$/.test(l)).length
  let alphaTokens = 0
  for (const t of tokens) if (hasLetter(t)) alphaTokens++
  let stopWords = 0
  for (const w of words) if (w.length <= 4 && STOP_WORDS.has(w.toLowerCase())) stopWords++

  const measures = {
    words: words.length,
    meanWordLength: round(meanWordLength),
    hashRatio: round(hashes / nTokens),
    ellipsisRatio: round(ellipses / nTokens),
    bulletLineRatio: round(bulletLines / lines.length),
    ellipsisLineRatio: round(ellipsisLines / lines.length),
    alphaWordRatio: round(alphaTokens / nTokens),
    stopWords,
  }

  if (words.length < p.minWords)
    return fired(
      'remove',
      'min_words',
      words.length,
      p.minWords,
      measures,
      `Only ${words.length} words (minimum ${p.minWords}).`,
    )
  if (words.length > p.maxWords)
    return fired(
      'remove',
      'max_words',
      words.length,
      p.maxWords,
      measures,
      `${words.length} words (maximum ${p.maxWords}).`,
    )
  if (!spaceless && measures.meanWordLength < p.minMeanWordLength)
    return fired(
      'remove',
      'mean_word_length',
      measures.meanWordLength,
      p.minMeanWordLength,
      measures,
      `Mean word length ${measures.meanWordLength} is below ${p.minMeanWordLength}.`,
    )
  if (!spaceless && measures.meanWordLength > p.maxMeanWordLength)
    return fired(
      'remove',
      'mean_word_length',
      measures.meanWordLength,
      p.maxMeanWordLength,
      measures,
      `Mean word length ${measures.meanWordLength} is above ${p.maxMeanWordLength}.`,
    )
  if (measures.hashRatio > p.maxSymbolWordRatio)
    return fired(
      'remove',
      'hash_ratio',
      measures.hashRatio,
      p.maxSymbolWordRatio,
      measures,
      `${measures.hashRatio} "#" per word (limit ${p.maxSymbolWordRatio}).`,
    )
  if (measures.ellipsisRatio > p.maxSymbolWordRatio)
    return fired(
      'remove',
      'ellipsis_ratio',
      measures.ellipsisRatio,
      p.maxSymbolWordRatio,
      measures,
      `${measures.ellipsisRatio} ellipses per word (limit ${p.maxSymbolWordRatio}).`,
    )
  if (measures.bulletLineRatio > p.maxBulletLineRatio)
    return fired(
      'remove',
      'bullet_lines',
      measures.bulletLineRatio,
      p.maxBulletLineRatio,
      measures,
      `${pct(measures.bulletLineRatio)} of lines start with a bullet (limit ${pct(p.maxBulletLineRatio)}).`,
    )
  if (measures.ellipsisLineRatio > p.maxEllipsisLineRatio)
    return fired(
      'remove',
      'ellipsis_lines',
      measures.ellipsisLineRatio,
      p.maxEllipsisLineRatio,
      measures,
      `${pct(measures.ellipsisLineRatio)} of lines end with an ellipsis (limit ${pct(p.maxEllipsisLineRatio)}).`,
    )
  if (measures.alphaWordRatio < p.minAlphaWordRatio)
    return fired(
      'remove',
      'alpha_words',
      measures.alphaWordRatio,
      p.minAlphaWordRatio,
      measures,
      `Only ${pct(measures.alphaWordRatio)} of words contain a letter (minimum ${pct(p.minAlphaWordRatio)}).`,
    )
  if (ctx.language === 'en' && stopWords < p.minStopWords)
    return fired(
      'remove',
      'stop_words',
      stopWords,
      p.minStopWords,
      measures,
      `Only ${stopWords} English stop words (minimum ${p.minStopWords}).`,
    )
  return kept(measures)
}

/** Whether a token holds a letter; ASCII first, the Unicode class only when needed. */
function hasLetter(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i) | 0x20
    if (c >= 0x61 && c <= 0x7a) return true
  }
  return ALPHA_RE.test(token)
}

export function countOf(text: string, needle: string): number {
  let n = 0
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++
  return n
}
