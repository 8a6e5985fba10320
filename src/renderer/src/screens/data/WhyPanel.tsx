import { useQueryClient } from '@tanstack/react-query'
import { Check, Undo2, X } from 'lucide-react'
import { useId, useMemo, useState } from 'react'
import { useApiMutation, useApiQuery } from '../../api/client'
import { Button } from '../../components/Button'
import { Notice } from '../../components/Notice'
import { formatCount } from '../../format'
import { deciderTitles } from '../../../../shared/data/catalog'
import type { DocumentDetail, Redaction, RuleOutcome } from '../../../../shared/data/types'
import { Redacted } from '../../components/Redacted'
import { StatusBadge } from './StatusBadge'
import {
  structuredDocument,
  type StructuredDocument,
  type Turn,
} from '../../../../shared/structured-document'

const decidedByText = {
  rules: 'the rules',
  dedup: 'deduplication',
  model: 'the quality model',
  reviewer: 'you',
} as const

const actionText: Record<RuleOutcome['action'], string> = {
  keep: 'kept',
  modify: 'changed',
  remove: 'removed',
  review: 'sent to review',
}

/**
 * Why a document has its status: who decided, the deciding rule's measurement against
 * its threshold, every rule's record, redactions, the duplicate cluster, both texts;
 * and the reviewer's own verdict, which also teaches the quality model.
 */
export function WhyPanel({
  id,
  onShowCluster,
}: {
  id: number
  onShowCluster: (cluster: number) => void
}) {
  const { data: doc, error } = useApiQuery('data.document', { id })
  if (error) return <Notice tone="error">{error.message}</Notice>
  if (!doc) return <p className="muted small">Loading…</p>
  const decisive = doc.reasons.find((r) => r.rule === doc.decisionRule && r.action !== 'keep')
  return (
    <div className="stack" style={{ gap: 'var(--space-3)' }}>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h3 className="why-title">Document #{doc.id}</h3>
        <StatusBadge status={doc.status} decidedBy={doc.decidedBy} />
      </div>
      <p className="small muted mono truncate" title={doc.source}>
        {doc.source}
      </p>
      <Verdict doc={doc} decisive={decisive} />
      <DecisionControls key={doc.id} doc={doc} />
      {doc.dupCluster !== null && (
        <section aria-label="Duplicate cluster" className="stack" style={{ gap: 4 }}>
          <h4>Duplicate cluster #{doc.dupCluster}</h4>
          <p className="small muted">
            {doc.dupCluster === doc.id
              ? `This is the copy kept; ${doc.cluster.length} others were removed.`
              : `Estimated similarity ${doc.dupSimilarity?.toFixed(2) ?? '—'} with #${doc.dupCluster}, which is kept.`}{' '}
            <button
              type="button"
              className="link-button"
              onClick={() => onShowCluster(doc.dupCluster!)}
            >
              Show all members
            </button>
          </p>
        </section>
      )}
      <TextView key={`${doc.id}:${doc.cleanedText === null}`} doc={doc} />
      <section aria-label="Every rule" className="stack" style={{ gap: 6 }}>
        <h4>What each rule measured</h4>
        {doc.reasons.length === 0 && <p className="small muted">Not cleaned yet.</p>}
        <ol className="reason-list">
          {doc.reasons.map((r, i) => (
            <ReasonRow key={`${r.rule}-${i}`} reason={r} decisive={r === decisive} />
          ))}
        </ol>
      </section>
      <Metadata meta={doc.meta} />
    </div>
  )
}

/** A document's metadata (the import's other fields), when it has any. */
export function Metadata({ meta }: { meta: Record<string, unknown> | null }) {
  if (!meta || Object.keys(meta).length === 0) return null
  return (
    <section aria-label="Metadata">
      <h4>Metadata</h4>
      <dl className="facts small">
        {Object.entries(meta).map(([k, v]) => (
          <div key={k} style={{ display: 'contents' }}>
            <dt>{k}</dt>
            <dd className="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
          </div>
        ))}
      </dl>
    </section>
  )
}

export function Verdict({
  doc,
  decisive,
}: {
  doc: DocumentDetail
  decisive: RuleOutcome | undefined
}) {
  if (doc.status === 'pending')
    return <p className="small">Not cleaned yet: run cleaning to see what the rules make of it.</p>
  const who = doc.decidedBy ? decidedByText[doc.decidedBy] : 'the rules'
  return (
    <div className="verdict" data-status={doc.status}>
      <p>
        <strong>
          {doc.status === 'kept' ? 'Kept' : doc.status === 'removed' ? 'Removed' : 'Needs review'}
        </strong>{' '}
        by {who}
        {doc.decidedBy === 'reviewer' && doc.autoStatus && doc.autoStatus !== doc.status && (
          <> (the pipeline said {doc.autoStatus})</>
        )}
        {doc.modified && doc.status !== 'removed' ? ', with changes to the text' : ''}.
      </p>
      {decisive && (
        <p className="small">
          <strong>{deciderTitles[decisive.rule]}</strong>: {decisive.note}
          {decisive.check && (
            <span className="muted">
              {' '}
              ({decisive.check} = {String(decisive.value)}, threshold {String(decisive.threshold)})
            </span>
          )}
        </p>
      )}
      {doc.qualityScore !== null && (
        <p className="small muted">
          Quality score {doc.qualityScore.toFixed(3)}
          {doc.language &&
            ` · language ${doc.language}${doc.languageScore !== null ? ` (${doc.languageScore.toFixed(2)})` : ''}`}
          {` · ${formatCount(doc.characters)} characters`}
        </p>
      )}
    </div>
  )
}

function DecisionControls({ doc }: { doc: DocumentDetail }) {
  const client = useQueryClient()
  const decide = useApiMutation('data.decide', {
    onSuccess: () => {
      for (const key of ['data.document', 'data.documents', 'data.stats', 'datasets.list'])
        void client.invalidateQueries({ queryKey: [key] })
    },
  })
  const [note, setNote] = useState(doc.note)
  const noteId = useId()
  const set = (decision: 'keep' | 'remove' | null) =>
    decide.mutate({ documentId: doc.id, decision, note })
  return (
    <section className="stack" style={{ gap: 6 }} aria-label="Your decision">
      <div className="row">
        <Button
          size="small"
          icon={<Check size={13} />}
          aria-pressed={doc.decision === 'keep'}
          variant={doc.decision === 'keep' ? 'primary' : 'default'}
          disabled={decide.isPending}
          onClick={() => set('keep')}
        >
          Keep
        </Button>
        <Button
          size="small"
          icon={<X size={13} />}
          aria-pressed={doc.decision === 'remove'}
          variant={doc.decision === 'remove' ? 'primary' : 'default'}
          disabled={decide.isPending}
          onClick={() => set('remove')}
        >
          Remove
        </Button>
        {doc.decision && (
          <Button
            size="small"
            variant="ghost"
            icon={<Undo2 size={13} />}
            disabled={decide.isPending}
            onClick={() => set(null)}
          >
            Undo my decision
          </Button>
        )}
      </div>
      <label htmlFor={noteId} className="visually-hidden">
        Note
      </label>
      <input
        id={noteId}
        className="input"
        placeholder="A note (saved with your decision)"
        value={note}
        maxLength={10_000}
        onChange={(e) => setNote(e.target.value)}
        onBlur={() => note !== doc.note && decide.mutate({ documentId: doc.id, note })}
      />
      {decide.data?.retrainJob && (
        <p className="small muted" role="status">
          Enough new decisions: the quality model is retraining.
        </p>
      )}
      {decide.error && <Notice tone="error">{decide.error.message}</Notice>}
    </section>
  )
}

export function ReasonRow({ reason, decisive }: { reason: RuleOutcome; decisive: boolean }) {
  const [open, setOpen] = useState(decisive)
  const id = useId()
  return (
    <li className="reason" data-action={reason.action} data-decisive={decisive}>
      <button
        type="button"
        className="reason-head"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        <span className="reason-rule">{deciderTitles[reason.rule] ?? reason.rule}</span>
        <span className="reason-action">{actionText[reason.action]}</span>
      </button>
      {open && (
        <div id={id} className="reason-body">
          {reason.note && <p className="small">{reason.note}</p>}
          <dl className="measures">
            {Object.entries(reason.measures).map(([k, v]) => (
              <div
                key={k}
                data-check={
                  reason.check && k.toLowerCase().includes(reason.check.split('_')[0])
                    ? 'true'
                    : undefined
                }
              >
                <dt>{k}</dt>
                <dd>{String(v)}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
    </li>
  )
}

/** The cleaned text with redactions marked, or the original. */
function TextView({ doc }: { doc: DocumentDetail }) {
  const [which, setWhich] = useState<'cleaned' | 'original'>(
    doc.cleanedText === null ? 'original' : 'cleaned',
  )
  const name = useId()
  const structured = useMemo(() => structuredDocument(doc.text), [doc.text])
  return (
    <section aria-label="Text" className="stack" style={{ gap: 6 }}>
      <div className="segmented" role="radiogroup" aria-label="Which text">
        {(['cleaned', 'original'] as const).map((w) => (
          <label key={w}>
            <input
              type="radio"
              name={name}
              checked={which === w}
              disabled={w === 'cleaned' && doc.cleanedText === null}
              onChange={() => setWhich(w)}
            />
            {w === 'cleaned' ? 'Cleaned' : 'Original'}
          </label>
        ))}
      </div>
      {which === 'cleaned' && doc.redactions.length > 0 && (
        <p className="small muted">
          {doc.redactions.length} redaction{doc.redactions.length === 1 ? '' : 's'}:{' '}
          {summarize(doc.redactions)}
        </p>
      )}
      <div
        className="doc-text"
        tabIndex={0}
        aria-label={`${which === 'cleaned' ? 'Cleaned' : 'Original'} text`}
      >
        {which === 'cleaned' ? (
          <Redacted text={doc.cleanedText ?? ''} redactions={doc.redactions} />
        ) : structured ? (
          <StructuredView doc={structured} />
        ) : (
          doc.text
        )}
      </div>
    </section>
  )
}

/** A conversation or a preference pair, turn by turn (the stored JSON is for machines). */
function StructuredView({ doc }: { doc: StructuredDocument }) {
  const turn = (t: Turn, i: number, label = t.role) => (
    <div key={i} className="chat-turn" data-role={t.role}>
      <span className="chat-role">{label}</span>
      <span className="chat-content">{t.content}</span>
    </div>
  )
  if (doc.kind === 'conversation') return <>{doc.turns.map((t, i) => turn(t, i))}</>
  return (
    <>
      {doc.prompt.map((t, i) => turn(t, i))}
      {turn({ role: 'assistant', content: doc.chosen }, -1, 'chosen')}
      {turn({ role: 'assistant', content: doc.rejected }, -2, 'rejected')}
    </>
  )
}

function summarize(redactions: readonly Redaction[]): string {
  const counts = new Map<string, number>()
  for (const r of redactions) counts.set(r.type, (counts.get(r.type) ?? 0) + 1)
  return [...counts].map(([t, n]) => `${n} ${t.toLowerCase().replace('_', ' ')}`).join(', ')
}
