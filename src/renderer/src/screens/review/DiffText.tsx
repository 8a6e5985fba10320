import { diffWordsWithSpace, type Change } from 'diff'
import { useMemo } from 'react'
import { Redacted } from '../../components/Redacted'
import type { Redaction } from '../../../../shared/data/types'

/** Above this many characters (both texts together) a word diff costs too much to show live. */
const MAX_DIFF_CHARS = 200_000
const PLACEHOLDER = /^<(EMAIL|PHONE|IP|CREDIT_CARD|BLOCKED)>$/

export type TextMode = 'changes' | 'cleaned' | 'original'

interface DiffTextProps {
  original: string
  cleaned: string | null
  redactions: readonly Redaction[]
  mode: TextMode
}

/**
 * A document's text: what cleaning changed (removed words struck through, redactions
 * marked with their type and the value they replaced), the cleaned text alone, or the
 * original.
 */
export function DiffText({ original, cleaned, redactions, mode }: DiffTextProps) {
  const tooLong = original.length + (cleaned?.length ?? 0) > MAX_DIFF_CHARS
  const changes = useMemo<Change[] | null>(
    () =>
      mode === 'changes' && cleaned !== null && !tooLong
        ? diffWordsWithSpace(original, cleaned)
        : null,
    [mode, original, cleaned, tooLong],
  )
  if (mode === 'original' || cleaned === null) return <>{original}</>
  if (mode === 'cleaned' || !changes)
    return (
      <>
        {mode === 'changes' && tooLong && (
          <p className="small muted">This document is too long to compare word by word.</p>
        )}
        <Redacted text={cleaned} redactions={redactions} />
      </>
    )
  const out: React.ReactNode[] = []
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]
    if (c.removed) {
      // A removal followed by a placeholder is a redaction: show both as one mark.
      const next = changes[i + 1]
      const placeholder = next?.added ? PLACEHOLDER.exec(next.value.trim()) : null
      if (placeholder && next) {
        out.push(
          <span key={i} className="diff-redaction" data-type={placeholder[1]}>
            <del title="Removed by redaction">{c.value}</del>
            <mark className="redaction" title={`${placeholder[1]} redacted`}>
              {next.value}
            </mark>
          </span>,
        )
        i++
      } else out.push(<del key={i}>{c.value}</del>)
    } else if (c.added) {
      const placeholder = PLACEHOLDER.exec(c.value.trim())
      out.push(
        placeholder ? (
          <mark key={i} className="redaction" title={`${placeholder[1]} redacted`}>
            {c.value}
          </mark>
        ) : (
          <ins key={i}>{c.value}</ins>
        ),
      )
    } else out.push(c.value)
  }
  return <>{out}</>
}
