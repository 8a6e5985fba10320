import type { eld as ExtraSmallEld } from 'eld/extrasmall'
import { fired, kept, type Rule } from './types'
import { round } from '../text/view'
import { loadEldScorer, type EldScores } from './eld-scorer'

/**
 * eld looks at the start of a document: a few sentences tell the language, and eld's
 * cost grows with the text (it is the dearest rule per document).
 */
const SAMPLE_CHARS = 250

export interface DetectedLanguage {
  language: string | null
  score: number
  /** The runner-up's score, to show how clear the call was. */
  second: number
  reliable: boolean
}

/** eld's own detector. Imported only when needed: its module is the 950 KB n-gram data. */
export type EldDetector = typeof ExtraSmallEld
export const loadEld = async (): Promise<EldDetector> => (await import('eld/extrasmall')).eld

/** eld's scores through eld's own API: the reference the fast scorer must equal. */
export function eldScores(eld: EldDetector, text: string): EldScores {
  const result = eld.detect(text)
  const scores = Object.values(result.getScores()).sort((a, b) => b - a)
  return {
    language: result.language,
    score: scores[0] ?? 0,
    second: scores[1] ?? 0,
    reliable: result.isReliable(),
  }
}

/** eld's data in typed arrays (several times cheaper per call); null: eld's files moved. */
const scorer = await loadEldScorer()
const detector = scorer ? null : await loadEld()

/** The language of a text with eld (n-gram based, 60 languages, pure JavaScript). */
export function detectLanguage(text: string): DetectedLanguage {
  const sample = text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text
  const d = scorer ? scorer.score(sample) : eldScores(detector!, sample)
  return { language: d.language || null, score: d.score, second: d.second, reliable: d.reliable }
}

/**
 * Language identification with a keep-list. An uncertain detection (low score, or eld
 * says unreliable) is not a verdict on the language: by default it goes to review.
 */
export const language: Rule<'language'> = (view, p, ctx) => {
  const d = detectLanguage(view.text)
  ctx.language = d.language
  ctx.languageScore = round(d.score)
  const measures = {
    language: d.language ?? 'unknown',
    score: round(d.score),
    runnerUp: round(d.second),
    reliable: d.reliable,
  }
  if (!d.language || !d.reliable || d.score < p.minScore) {
    if (p.uncertain === 'keep') return kept(measures)
    return fired(
      p.uncertain,
      'language_score',
      round(d.score),
      p.minScore,
      measures,
      d.language
        ? `Language uncertain: ${d.language} with score ${round(d.score)} (minimum ${p.minScore}${d.reliable ? '' : ', and eld calls it unreliable'}).`
        : 'No language could be detected.',
    )
  }
  if (p.keep.length > 0 && !p.keep.includes(d.language)) {
    return fired(
      'remove',
      'language',
      d.language,
      p.keep.join(','),
      measures,
      `Language ${d.language} is not in the keep-list (${p.keep.join(', ')}).`,
    )
  }
  return kept(measures)
}
