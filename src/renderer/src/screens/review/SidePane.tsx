import { Columns2 } from 'lucide-react'
import { forwardRef, useId, useImperativeHandle, useRef, useState } from 'react'
import { useApiQuery } from '../../api/client'
import { Button } from '../../components/Button'
import { Dialog } from '../../components/Dialog'
import { Redacted } from '../../components/Redacted'
import type { LabelDef, ReviewDocument } from '../../../../shared/review'
import { Metadata, ReasonRow, Verdict } from '../data/WhyPanel'

export interface NoteHandle {
  focus(): void
}

interface SidePaneProps {
  doc: ReviewDocument
  labels: LabelDef[]
  busy: boolean
  onToggleLabel: (labelId: number) => void
  onSaveNote: (note: string) => void
  /** Review the members of this document's duplicate cluster as a queue. */
  onReviewCluster: (cluster: number) => void
}

/**
 * Beside the text: the verdict and its reasons, the reviewer's labels (with their keys)
 * and note, metadata, and for a duplicate its cluster, side by side with the kept copy.
 */
export const SidePane = forwardRef<NoteHandle, SidePaneProps>(function SidePane(
  { doc, labels, busy, onToggleLabel, onSaveNote, onReviewCluster },
  ref,
) {
  const decisive = doc.reasons.find((r) => r.rule === doc.decisionRule && r.action !== 'keep')
  return (
    <aside className="review-side stack" aria-label="Why">
      <Verdict doc={doc} decisive={decisive} />
      <section aria-label="Labels" className="stack" style={{ gap: 6 }}>
        <h4>Labels</h4>
        {labels.length === 0 ? (
          <p className="small muted">No labels yet: add some with “Labels…” above.</p>
        ) : (
          <div className="label-chips">
            {labels.map((l) => {
              const on = doc.labels.includes(l.id)
              return (
                <button
                  key={l.id}
                  type="button"
                  className="label-chip"
                  aria-pressed={on}
                  disabled={busy}
                  style={{ '--label-color': l.color } as React.CSSProperties}
                  onClick={() => onToggleLabel(l.id)}
                >
                  {l.key && <kbd>{l.key}</kbd>}
                  {l.name}
                </button>
              )
            })}
          </div>
        )}
      </section>
      <NoteField key={doc.id} ref={ref} note={doc.note} onSave={onSaveNote} />
      {doc.dupCluster !== null && (
        <ClusterSection doc={doc} onReview={() => onReviewCluster(doc.dupCluster!)} />
      )}
      <section aria-label="Every rule" className="stack" style={{ gap: 6 }}>
        <h4>What each rule measured</h4>
        <ol className="reason-list">
          {doc.reasons.map((r, i) => (
            <ReasonRow key={`${doc.id}-${r.rule}-${i}`} reason={r} decisive={r === decisive} />
          ))}
        </ol>
      </section>
      <Metadata meta={doc.meta} />
    </aside>
  )
})

/** The note: `n` focuses it, Enter or leaving the field saves, Escape gives up the edit. */
const NoteField = forwardRef<NoteHandle, { note: string; onSave: (note: string) => void }>(
  function NoteField({ note, onSave }, ref) {
    const [value, setValue] = useState(note)
    const input = useRef<HTMLTextAreaElement>(null)
    const id = useId()
    useImperativeHandle(ref, () => ({ focus: () => input.current?.focus() }))
    return (
      <section className="stack" style={{ gap: 4 }}>
        <label htmlFor={id}>
          <h4>Note</h4>
        </label>
        <textarea
          id={id}
          ref={input}
          className="input review-note"
          rows={2}
          maxLength={10_000}
          placeholder="Why you decided, for later (Enter saves)"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          onBlur={() => value !== note && onSave(value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault()
              input.current?.blur()
            } else if (e.key === 'Escape') {
              e.preventDefault()
              setValue(note)
              // Leave the field without saving: blur sees the unchanged value next render.
              setTimeout(() => input.current?.blur(), 0)
            }
          }}
        />
      </section>
    )
  },
)

function ClusterSection({ doc, onReview }: { doc: ReviewDocument; onReview: () => void }) {
  const [open, setOpen] = useState(false)
  const kept = doc.dupCluster === doc.id
  return (
    <section aria-label="Duplicate cluster" className="stack" style={{ gap: 4 }}>
      <h4>Duplicate cluster #{doc.dupCluster}</h4>
      <p className="small muted">
        {kept
          ? `The copy kept; ${doc.cluster.length} other${doc.cluster.length === 1 ? ' was' : 's were'} removed as duplicates of it.`
          : `Removed as a near copy of #${doc.dupCluster} (estimated similarity ${doc.dupSimilarity?.toFixed(2) ?? '—'}).`}
      </p>
      <ul className="review-cluster small">
        {doc.cluster.slice(0, 8).map((m) => (
          <li key={m.id}>
            <span className="mono">#{m.id}</span> {m.status} · {m.preview.slice(0, 80)}
          </li>
        ))}
      </ul>
      {doc.cluster.length > 0 && (
        <div className="row" style={{ gap: 6 }}>
          <Button size="small" icon={<Columns2 size={13} />} onClick={() => setOpen(true)}>
            Side by side
          </Button>
          <Button size="small" variant="ghost" onClick={onReview}>
            Review the cluster
          </Button>
        </div>
      )}
      <Dialog open={open} title={`Cluster #${doc.dupCluster}`} onClose={() => setOpen(false)}>
        <SideBySide doc={doc} otherId={kept ? doc.cluster[0].id : doc.dupCluster!} />
      </Dialog>
    </section>
  )
}

function SideBySide({ doc, otherId }: { doc: ReviewDocument; otherId: number }) {
  const { data: other } = useApiQuery('data.document', { id: otherId })
  const column = (d: ReviewDocument, title: string) => (
    <div className="stack" style={{ gap: 4, minWidth: 0 }}>
      <h4>
        {title} <span className="muted mono">#{d.id}</span>
      </h4>
      <div className="doc-text side-by-side-text">
        <Redacted text={d.cleanedText ?? d.text} redactions={d.redactions} />
      </div>
    </div>
  )
  return (
    <div className="side-by-side">
      {column(doc, 'This document')}
      {other ? (
        column(other, doc.dupCluster === other.id ? 'The kept copy' : 'A removed copy')
      ) : (
        <p>Loading…</p>
      )}
    </div>
  )
}
