import { keptOrModified, type Rule } from './types'

// The seed rule engine's regexes, made a little safer: a mention must not be part of an
// e-mail address (those are redacted by the PII rule, not mangled here).
const TAG_RE = /<[^>]+>/g
const ENTITY_RE = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));/g
const URL_RE = /\b(?:https?:\/\/|www\.)\S+/gi
const MENTION_RE = /(^|[^\w.@])@\w{1,40}/g
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const CONTROL_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g
const INVISIBLE_RE = /[\u200B-\u200D\u2060-\u2064\uFEFF\uFFFD\uE000-\uF8FF]/g
/** 4+ of the same symbol ("=====", "*****", "★★★★"); ellipses of three dots survive. */
const SYMBOL_RUN_RE = /([^\p{L}\p{N}\p{M}\s])\1{3,}/gu
const BOX_RE = /[\u2500-\u259F]+/g
/** Cheap pre-checks: the passes above run only on text that has something to remove. */
const JUNK_TEST_RE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200D\u2060-\u2064\uFEFF\uFFFD\uE000-\uF8FF\u2500-\u259F]/
const SYMBOL_RUN_TEST_RE = /([^\w\s])\1{3}/

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
  copy: '©',
  reg: '®',
  trade: '™',
  middot: '·',
  bull: '•',
}

function decodeEntity(match: string, dec?: string, hex?: string, name?: string): string {
  const code = dec ? Number(dec) : hex ? parseInt(hex, 16) : null
  if (code !== null) return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ''
  return NAMED_ENTITIES[name!.toLowerCase()] ?? match
}

/** Count and replace in one go; `by` gets the match's first group (MENTION_RE's prefix). */
function replaceCounting(
  text: string,
  re: RegExp,
  by: (group: string) => string,
): [string, number] {
  let n = 0
  const out = text.replace(re, (_match: string, group: unknown) => {
    n++
    return by(typeof group === 'string' ? group : '')
  })
  return [out, n]
}

const space = (): string => ' '
const keepPrefix = (prefix: string): string => prefix

/**
 * Runs of horizontal whitespace that are not already a single space. (Matching every
 * run, single spaces included, rebuilt the whole text for each of its few hundred spaces
 * to write the same space back.)
 */
const SPACE_RUN_RE =
  /[\t\f\v\u00A0\u2000-\u200A\u202F\u205F\u3000][ \t\f\v\u00A0\u2000-\u200A\u202F\u205F\u3000]*| [ \t\f\v\u00A0\u2000-\u200A\u202F\u205F\u3000]+/g
/** Spaces next to a line break (a bare line break needs no rewrite). */
const SPACED_BREAK_RE = / +\n *|\n +/g

/** Spaces collapsed, lines trimmed, at most one blank line in a row. */
export function collapseWhitespace(text: string): string {
  return (text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text)
    .replace(SPACE_RUN_RE, ' ')
    .replace(SPACED_BREAK_RE, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

export const noise: Rule<'noise'> = (view, p) => {
  let text = view.text
  const measures: Record<string, number> = {}
  // Each pass runs only when its trigger character is present: most text has no markup.
  if (p.stripHtmlTags && (text.includes('<') || text.includes('&'))) {
    let n: number
    ;[text, n] = replaceCounting(text, TAG_RE, space)
    measures.tags = n
    let entities = 0
    text = text.replace(ENTITY_RE, (m, d?: string, h?: string, name?: string) => {
      const out = decodeEntity(m, d, h, name)
      if (out !== m) entities++
      return out
    })
    measures.entities = entities
  }
  if (p.stripUrls && (text.includes('://') || /www\./i.test(text)))
    [text, measures.urls] = replaceCounting(text, URL_RE, space)
  if (p.stripMentions && text.includes('@'))
    [text, measures.mentions] = replaceCounting(text, MENTION_RE, keepPrefix)
  if (p.stripJunk) {
    const before = text.length
    if (JUNK_TEST_RE.test(text))
      text = text.replace(CONTROL_RE, ' ').replace(INVISIBLE_RE, '').replace(BOX_RE, ' ')
    if (SYMBOL_RUN_TEST_RE.test(text)) text = text.replace(SYMBOL_RUN_RE, ' ')
    measures.junkChars = before - text.length
  }
  if (p.collapseWhitespace) text = collapseWhitespace(text)
  measures.charsBefore = view.text.length
  measures.charsAfter = text.length
  const removed = view.text.length - text.length
  return keptOrModified(
    view.text,
    text,
    measures,
    removed > 0 ? `Stripped ${removed} characters of markup and noise.` : undefined,
  )
}
