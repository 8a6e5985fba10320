import { fired, kept, type Rule } from './types'
import { pct } from './gopher-repetition'
import { fnv32 } from '../dedup/hash'
import { isSpacelessLanguage, round } from '../text/view'

export const STOP_WORDS = new Set(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'])
/**
 * The word ids (fnv32) of every upper- and lower-case spelling of the stop words: a word
 * whose id is not here is no stop word, so only the few that are get a string compare.
 */
const STOP_WORD_IDS = new Set([...STOP_WORDS].flatMap(caseSpellings).map(fnv32))
const BULLET_RE = /^\s*[•\-‣◦⁃∙*]/u
const ELLIPSIS_END_RE = /(\.\.\.|…)\s*$/

/**
 * Gopher's quality filter (Rae et al. 2021): document length in words, mean word length,
 * symbol ratios, bullet and ellipsis lines, words with letters, English stop words.
 * Word-length and stop-word checks apply only where they mean something: not to
 * languages written without spaces, and stop words to English only.
 */
export const gopherQuality: Rule<'gopher_quality'> = (view, p, ctx) => {
  const text = view.text
  const { source, ids, starts, lengths, tokens, alphaTokens } = view.wordStats
  const words = ids.length
  const nTokens = Math.max(1, tokens)
  const spaceless = isSpacelessLanguage(ctx.language)

  let letters = 0
  let stopWords = 0
  for (let i = 0; i < words; i++) {
    letters += lengths[i]
    if (
      lengths[i] <= 4 &&
      STOP_WORD_IDS.has(ids[i]) &&
      STOP_WORDS.has(source.slice(starts[i], starts[i] + lengths[i]).toLowerCase())
    )
      stopWords++
  }
  const meanWordLength = words ? letters / words : 0
  const hashes = countOf(text, '#')
  const ellipses = countOf(text, '...') + countOf(text, '…')
  const lines = view.lines
  let bulletLines = 0
  let ellipsisLines = 0
  for (const line of lines) {
    if (BULLET_RE.test(line)) bulletLines++
    if (ELLIPSIS_END_RE.test(line)) ellipsisLines++
  }

  const measures = {
    words,
    meanWordLength: round(meanWordLength),
    hashRatio: round(hashes / nTokens),
    ellipsisRatio: round(ellipses / nTokens),
    bulletLineRatio: round(bulletLines / lines.length),
    ellipsisLineRatio: round(ellipsisLines / lines.length),
    alphaWordRatio: round(alphaTokens / nTokens),
    stopWords,
  }

  if (words < p.minWords)
    return fired(
      'remove',
      'min_words',
      words,
      p.minWords,
      measures,
      `Only ${words} words (minimum ${p.minWords}).`,
    )
  if (words > p.maxWords)
    return fired(
      'remove',
      'max_words',
      words,
      p.maxWords,
      measures,
      `${words} words (maximum ${p.maxWords}).`,
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

/** Every spelling of an ASCII word in upper and lower case: "to", "tO", "To", "TO". */
function caseSpellings(word: string): string[] {
  let out = ['']
  for (const ch of word) out = out.flatMap((s) => [s + ch.toLowerCase(), s + ch.toUpperCase()])
  return out
}

export function countOf(text: string, needle: string): number {
  let n = 0
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++
  return n
}
