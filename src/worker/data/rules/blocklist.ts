import { fired, kept, type PendingRedaction, type Rule } from './types'

const compiled = new WeakMap<readonly string[], RegExp>()

/** One case-insensitive alternation, matched on word boundaries (letters and digits). */
function blockRegex(words: readonly string[]): RegExp {
  let re = compiled.get(words)
  if (!re) {
    const alternation = [...words]
      .sort((a, b) => b.length - a.length)
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+'))
      .join('|')
    re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternation})(?![\\p{L}\\p{N}])`, 'giu')
    compiled.set(words, re)
  }
  re.lastIndex = 0
  return re
}

/** `text` with every blocklisted word replaced by <BLOCKED>; null when there is none. */
export function redactBlocked(
  text: string,
  words: readonly string[],
): { text: string; redactions: PendingRedaction[] } | null {
  if (words.length === 0) return null
  const redactions: PendingRedaction[] = []
  const out = text.replace(blockRegex(words), (m) => {
    redactions.push({ type: 'BLOCKED', value: m })
    return '<BLOCKED>'
  })
  return redactions.length > 0 ? { text: out, redactions } : null
}

/** Your list of words or phrases: remove the document, send it to review, or redact the matches. */
export const blocklist: Rule<'blocklist'> = (view, p) => {
  if (p.words.length === 0) return kept({ hits: 0 })
  const re = blockRegex(p.words)
  const found = new Map<string, number>()
  for (const m of view.text.matchAll(re)) {
    const w = m[0].toLowerCase()
    found.set(w, (found.get(w) ?? 0) + 1)
  }
  let hits = 0
  for (const n of found.values()) hits += n
  const measures = { hits, words: [...found.keys()].slice(0, 10).join(', ') }
  if (hits === 0) return kept(measures)
  if (p.action === 'redact') {
    // hits > 0, so there is something to redact.
    const redacted = redactBlocked(view.text, p.words)!
    return {
      action: 'modify',
      text: redacted.text,
      redactions: redacted.redactions,
      outcome: { measures, note: `Redacted ${hits} blocklisted words.` },
    }
  }
  return fired(
    p.action,
    'blocklist',
    measures.words,
    'none',
    measures,
    `Contains blocklisted words: ${measures.words}.`,
  )
}
