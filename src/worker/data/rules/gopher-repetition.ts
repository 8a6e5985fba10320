import { fired, kept, type Rule } from './types'
import { countNgrams, duplicatedNgramChars } from './ngrams'
import { findDuplicates, round } from '../text/view'

const TOP = [
  [2, 'top2gramCharFrac'],
  [3, 'top3gramCharFrac'],
  [4, 'top4gramCharFrac'],
] as const
const DUP = [
  [5, 'dup5gramCharFrac'],
  [6, 'dup6gramCharFrac'],
  [7, 'dup7gramCharFrac'],
  [8, 'dup8gramCharFrac'],
  [9, 'dup9gramCharFrac'],
  [10, 'dup10gramCharFrac'],
] as const

/** Where each word's n-grams repeat (see countNgrams), reused between documents. */
let levels = new Uint8Array(1024)

/**
 * Gopher's repetition filter (Rae et al. 2021, table A1): repeated lines, paragraphs and
 * n-grams, each as a fraction of the document. The first check that fails removes it.
 */
export const gopherRepetition: Rule<'gopher_repetition'> = (view, p) => {
  const text = view.text
  const length = Math.max(1, text.length)
  const measures: Record<string, number> = {}

  const paragraphs = text.trim().split(/\n{2,}/)
  const para = findDuplicates(paragraphs)
  measures.dupParaFrac = round(para.elements / paragraphs.length)
  measures.dupParaCharFrac = round(para.chars / length)
  const lines = text.split(/\n+/)
  const line = findDuplicates(lines)
  measures.dupLineFrac = round(line.elements / lines.length)
  measures.dupLineCharFrac = round(line.chars / length)

  const checks: [string, number, number, string][] = [
    ['dup_para_frac', measures.dupParaFrac, p.dupParaFrac, 'paragraphs are repeated'],
    [
      'dup_para_char_frac',
      measures.dupParaCharFrac,
      p.dupParaCharFrac,
      'of characters are in repeated paragraphs',
    ],
    ['dup_line_frac', measures.dupLineFrac, p.dupLineFrac, 'lines are repeated'],
    [
      'dup_line_char_frac',
      measures.dupLineCharFrac,
      p.dupLineCharFrac,
      'of characters are in repeated lines',
    ],
  ]
  for (const [check, value, threshold, what] of checks) {
    if (value > threshold)
      return fired(
        'remove',
        check,
        value,
        threshold,
        measures,
        `${pct(value)} ${what} (limit ${pct(threshold)}).`,
      )
  }

  const { ids, lengths } = view.wordStats
  if (levels.length < ids.length) levels = new Uint8Array(ids.length * 2)
  // Each length counts only where the previous one repeats (countNgrams).
  for (const [n, key] of TOP) {
    const frac = round(countNgrams(ids, lengths, n, levels, n > TOP[0][0]).top / length)
    measures[key] = frac
    if (frac > p[key])
      return fired(
        'remove',
        `top_${n}_gram`,
        frac,
        p[key],
        measures,
        `The most frequent ${n}-gram covers ${pct(frac)} of the text (limit ${pct(p[key])}).`,
      )
  }
  // Where the shortest n-gram repeats: the only places a longer one can.
  const m = DUP[0][0]
  let anyRepeat = countNgrams(ids, lengths, m, levels, true).repeats > 0
  for (const [n, key] of DUP) {
    // No repeated 5-gram means no repeated longer n-gram either.
    const frac = anyRepeat
      ? round(duplicatedNgramChars(ids, lengths, n, { levels, m }) / length)
      : 0
    if (frac === 0) anyRepeat = false
    measures[key] = frac
    if (frac > p[key])
      return fired(
        'remove',
        `duplicated_${n}_grams`,
        frac,
        p[key],
        measures,
        `Repeated ${n}-grams cover ${pct(frac)} of the text (limit ${pct(p[key])}).`,
      )
  }
  return kept(measures)
}

export function pct(f: number): string {
  return `${round(f * 100)}%`
}
