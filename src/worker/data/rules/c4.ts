import { fired, keptOrModified, type Rule } from './types'

const CITATION_RE = /\[\d*\]|\[edit\]|\[citation needed\]/gi
const END_PUNCTUATION = ['.', '?', '!', '"', "'", '”', '’', '。', '！', '？']
const POLICY_PHRASES = [
  'terms of use',
  'privacy policy',
  'cookie policy',
  'uses cookies',
  'use of cookies',
  'use cookies',
]
/** A sentence ends at terminal punctuation followed by a space or the end of the line. */
const SENTENCE_END_RE = /[.!?。！？]+["'”’)]*(?=\s|$)/g
/**
 * Lines that may hold one of the phrases below, in any case: only they are lower-cased
 * and searched. Case-insensitive Unicode matching folds every character that lower-cases
 * to one of these letters (the Kelvin sign to "k" too), so it misses none.
 */
const PHRASE_HINT_RE = /lorem ipsum|javascript|terms of use|privacy policy|cookie/iu

const CJK_CHAR_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu

/** JavaScript's `\s`: what `trim()` strips and `split(/\s+/)` splits on. */
function isJsSpace(c: number): boolean {
  return c <= 0x20
    ? c === 0x20 || (c >= 0x09 && c <= 0x0d)
    : c >= 0xa0 &&
        (c === 0xa0 ||
          c === 0x1680 ||
          (c >= 0x2000 && c <= 0x200a) ||
          c === 0x2028 ||
          c === 0x2029 ||
          c === 0x202f ||
          c === 0x205f ||
          c === 0x3000 ||
          c === 0xfeff)
}

/**
 * `line.split(/\s+/)`'s piece count and longest piece, for a trimmed, non-empty line,
 * without building the pieces (this runs on every line of every document).
 */
export function spacedWords(line: string): { count: number; longest: number } {
  let count = 1
  let longest = 0
  let current = 0
  let inSpace = false
  for (let i = 0; i < line.length; i++) {
    if (isJsSpace(line.charCodeAt(i))) {
      if (!inSpace) {
        inSpace = true
        count++
        if (current > longest) longest = current
        current = 0
      }
    } else {
      inSpace = false
      current++
    }
  }
  return { count, longest: current > longest ? current : longest }
}

/** Words in a line; in scripts written without spaces, each character counts as one. */
function lineWordCount(line: string, spaced: number, ascii: boolean): number {
  if (ascii) return spaced
  const cjk = line.match(CJK_CHAR_RE)?.length ?? 0
  return cjk > 0 ? Math.max(spaced, cjk) : spaced
}

/**
 * C4's filters (Raffel et al. 2020), line level then document level: lines with a
 * giant word, too few words, "javascript" or a cookie/policy notice are dropped and
 * citation markers stripped; lorem ipsum or a "{" (code) removes the document, and so
 * do fewer than `minSentences` sentences left. Blank lines are kept as paragraph breaks.
 */
export const c4: Rule<'c4'> = (view, p) => {
  const kept: string[] = []
  const dropped = { longWord: 0, noPunctuation: 0, fewWords: 0, javascript: 0, policy: 0 }
  let sentences = 0
  let citations = 0
  const measures = (): Record<string, number> => ({
    lines: view.lines.length,
    keptLines: kept.filter((l) => l !== '').length,
    sentences,
    citations,
    ...dropped,
  })
  for (const raw of view.lines) {
    let line = raw.trim()
    if (line === '') {
      if (kept.length && kept[kept.length - 1] !== '') kept.push('')
      continue
    }
    const words = spacedWords(line)
    if (words.longest > p.maxWordLength) {
      dropped.longWord++
      continue
    }
    if (p.stripCitations) {
      const stripped = line.replace(CITATION_RE, '')
      if (stripped !== line) citations++
      line = stripped.trim()
    }
    if (
      p.requireTerminalPunctuation &&
      (!END_PUNCTUATION.some((e) => line.endsWith(e)) || line.endsWith('...'))
    ) {
      dropped.noPunctuation++
      continue
    }
    if (lineWordCount(line, words.count, view.ascii) < p.minWordsPerLine) {
      dropped.fewWords++
      continue
    }
    const lower = PHRASE_HINT_RE.test(line) ? line.toLowerCase() : ''
    if (p.removeLoremIpsum && lower.includes('lorem ipsum'))
      return fired(
        'remove',
        'lorem_ipsum',
        'lorem ipsum',
        'none',
        measures(),
        'Contains "lorem ipsum" placeholder text.',
      )
    if (p.dropJavascriptLines && lower.includes('javascript')) {
      dropped.javascript++
      continue
    }
    if (p.removeCurlyBrace && line.includes('{'))
      return fired(
        'remove',
        'curly_bracket',
        '{',
        'none',
        measures(),
        'Contains "{", which C4 takes as a sign of code.',
      )
    if (p.dropPolicyLines && POLICY_PHRASES.some((phrase) => lower.includes(phrase))) {
      dropped.policy++
      continue
    }
    sentences += Math.max(1, (line.match(SENTENCE_END_RE) ?? []).length)
    kept.push(line)
  }
  while (kept.length && kept[kept.length - 1] === '') kept.pop()
  if (sentences < p.minSentences)
    return fired(
      'remove',
      'min_sentences',
      sentences,
      p.minSentences,
      measures(),
      `Only ${sentences} sentences left after line filtering (minimum ${p.minSentences}).`,
    )
  const droppedLines = Object.values(dropped).reduce((a, b) => a + b, 0)
  return keptOrModified(
    view.text,
    kept.join('\n'),
    measures(),
    droppedLines > 0
      ? `Dropped ${droppedLines} boilerplate lines.`
      : citations > 0
        ? `Stripped ${citations} citation markers.`
        : undefined,
  )
}
