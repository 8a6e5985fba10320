import { fired, kept, type Rule } from './types'
import { pct } from './gopher-repetition'
import { findDuplicates, round } from '../text/view'

const STOP_CHARS = ['.', "'", '"', '!', '?', '”', '’', '。', '！', '？', ':', ';']

/**
 * FineWeb's quality filter (Penedo et al. 2024): too few lines ending in punctuation,
 * too many short lines, characters in duplicated lines, too many newlines per word.
 */
export const finewebQuality: Rule<'fineweb_quality'> = (view, p) => {
  const lines = view.nonEmptyLines
  if (lines.length === 0)
    return fired('remove', 'empty', 0, 1, { lines: 0 }, 'The document is empty.')
  const terminal = lines.filter((l) => STOP_CHARS.some((c) => l.endsWith(c))).length
  const short = lines.filter((l) => l.length <= p.shortLineLength).length
  const dupChars = findDuplicates(lines).chars
  const nonNewline = Math.max(1, view.text.length - countNewlines(view.text))
  const newlines = countNewlines(view.text)
  const words = Math.max(1, view.wordStats.ids.length)
  const measures = {
    lines: lines.length,
    terminalLineRatio: round(terminal / lines.length),
    shortLineRatio: round(short / lines.length),
    dupLineCharRatio: round(dupChars / nonNewline),
    newlinesPerWord: round(newlines / words),
  }
  if (measures.terminalLineRatio < p.minTerminalLineRatio)
    return fired(
      'remove',
      'line_punct_ratio',
      measures.terminalLineRatio,
      p.minTerminalLineRatio,
      measures,
      `Only ${pct(measures.terminalLineRatio)} of lines end in punctuation (minimum ${pct(p.minTerminalLineRatio)}).`,
    )
  if (measures.shortLineRatio > p.maxShortLineRatio)
    return fired(
      'remove',
      'short_line_ratio',
      measures.shortLineRatio,
      p.maxShortLineRatio,
      measures,
      `${pct(measures.shortLineRatio)} of lines have at most ${p.shortLineLength} characters (limit ${pct(p.maxShortLineRatio)}).`,
    )
  if (measures.dupLineCharRatio > p.maxDupLineCharRatio)
    return fired(
      'remove',
      'char_dup_ratio',
      measures.dupLineCharRatio,
      p.maxDupLineCharRatio,
      measures,
      `${pct(measures.dupLineCharRatio)} of characters are in repeated lines (limit ${pct(p.maxDupLineCharRatio)}).`,
    )
  if (measures.newlinesPerWord > p.maxNewlinesPerWord)
    return fired(
      'remove',
      'list_ratio',
      measures.newlinesPerWord,
      p.maxNewlinesPerWord,
      measures,
      `${measures.newlinesPerWord} newlines per word: a list, not prose (limit ${p.maxNewlinesPerWord}).`,
    )
  return kept(measures)
}

function countNewlines(text: string): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++
  return n
}
