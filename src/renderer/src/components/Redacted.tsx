import type { Redaction } from '../../../shared/data/types'

/** The cleaned text with each redaction marked (spans stored by the PII rule). */
export function Redacted({ text, redactions }: { text: string; redactions: readonly Redaction[] }) {
  const parts: (string | Redaction)[] = []
  let at = 0
  for (const r of redactions) {
    if (r.start < at || r.end > text.length) continue
    parts.push(text.slice(at, r.start), r)
    at = r.end
  }
  parts.push(text.slice(at))
  return (
    <>
      {parts.map((p, i) =>
        typeof p === 'string' ? (
          p
        ) : (
          <mark key={i} className="redaction" title={`Was: ${p.value}`}>
            {text.slice(p.start, p.end)}
          </mark>
        ),
      )}
    </>
  )
}
