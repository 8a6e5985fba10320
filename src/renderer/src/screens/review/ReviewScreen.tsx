import {
  Check,
  ChevronLeft,
  ChevronRight,
  Download,
  FlaskConical,
  ListChecks,
  Redo2,
  SkipForward,
  StickyNote,
  Tags,
  Undo2,
  Wand2,
  X,
} from 'lucide-react'
import { useEffect, useId, useMemo, useRef, useState } from 'react'
import { Link } from 'wouter'
import { call, useApiQuery, useTransport } from '../../api/client'
import { isMac, isTyping } from '../../app/keyboard'
import { Button } from '../../components/Button'
import { EmptyState } from '../../components/EmptyState'
import { PathDialog } from '../../components/forms/PathDialog'
import { Notice } from '../../components/Notice'
import { Page } from '../../components/Page'
import { formatCount } from '../../format'
import { deciderTitles } from '../../../../shared/data/catalog'
import {
  chordLabel,
  chordOf,
  effectiveReviewKeys,
  type ReviewCommand,
  type ReviewKeys,
} from '../../../../shared/review-keys'
import type { Queue, QueueSource, ReviewOverview } from '../../../../shared/review'
import { StatusBadge } from '../data/StatusBadge'
import { DiffText, type TextMode } from './DiffText'
import { ProgressStrip } from './ProgressStrip'
import { QueueList } from './QueueList'
import { BulkDialog, LabelsDialog, SampleDialog } from './ReviewDialogs'
import { SidePane, type NoteHandle } from './SidePane'
import { useReview } from './useReview'
import './review.css'

/** What the queue picker offers, from the dataset's overview. */
function queueOptions(o: ReviewOverview): { source: QueueSource; name: string }[] {
  return [
    {
      source: { kind: 'uncertain' },
      name: `Needs review (${formatCount(o.uncertain.remaining)} of ${formatCount(o.uncertain.total)} left)`,
    },
    ...o.samples.map((s) => ({
      source: { kind: 'audit', sampleId: s.id } as const,
      name: `Audit of ${s.of} #${s.id} (${formatCount(s.reviewed)} of ${formatCount(s.size)} reviewed)`,
    })),
    ...o.rules.map((r) => ({
      source: { kind: 'rule', rule: r.rule } as const,
      name: `Decided by ${deciderTitles[r.rule]} (${formatCount(r.documents)})`,
    })),
    ...o.labels.map((l) => ({
      source: { kind: 'label', labelId: l.id } as const,
      name: `Label: ${l.name} (${formatCount(l.documents)})`,
    })),
    { source: { kind: 'status', status: 'kept' }, name: 'Status: kept' },
    { source: { kind: 'status', status: 'removed' }, name: 'Status: removed' },
    { source: { kind: 'score', min: 0.3, max: 0.6 }, name: 'Quality score 0.30 to 0.60' },
    { source: { kind: 'all' }, name: 'All documents' },
  ]
}

const sourceKey = (s: QueueSource) => JSON.stringify(s)

/**
 * The human tier of cleaning: a queue of documents, one at a time, decided from the
 * keyboard. Every decision is saved before the next document shows, can be undone (also
 * after a restart), and teaches the quality model.
 */
export function ReviewScreen() {
  const { data: datasets } = useApiQuery('datasets.list', {})
  const [chosenDataset, setChosenDataset] = useState<number | null>(null)
  const datasetId = chosenDataset ?? datasets?.[0]?.id ?? null
  if (datasets && datasets.length === 0) return <NothingToReview />
  return (
    <Page
      title="Review"
      description="Decide what the rules and the quality model could not; audit what they did decide."
    >
      {datasetId !== null && datasets ? (
        <Workspace
          key={datasetId}
          datasetId={datasetId}
          datasets={datasets.map((d) => ({ id: d.id, name: d.name }))}
          onDataset={setChosenDataset}
        />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </Page>
  )
}

function NothingToReview() {
  return (
    <Page
      title="Review"
      description="The human tier of cleaning: decide what the rules and the quality model could not."
    >
      <EmptyState
        icon={<ListChecks size={22} />}
        title="Nothing to review yet"
        steps={[
          { label: 'Import a dataset (Data)', done: false },
          { label: 'Clean it (Data)', done: false },
        ]}
        actions={
          <Link href="/data" className="btn btn-primary">
            Go to Data
          </Link>
        }
      >
        Documents the cleaning rules and the quality model cannot decide wait here for you, with
        random audits of what was kept and removed. Import and clean a dataset first.
      </EmptyState>
    </Page>
  )
}

function Workspace({
  datasetId,
  datasets,
  onDataset,
}: {
  datasetId: number
  datasets: { id: number; name: string }[]
  onDataset: (id: number) => void
}) {
  const transport = useTransport()
  const { data: overview, error } = useApiQuery('review.overview', { datasetId })
  const { data: settings } = useApiQuery('settings.get', {})
  const keys = effectiveReviewKeys(settings?.reviewKeys)
  const [source, setSource] = useState<QueueSource>({ kind: 'uncertain' })
  const [searchText, setSearchText] = useState('')
  const [search, setSearch] = useState('')
  const [mode, setMode] = useState<TextMode | null>(null)
  const [dialog, setDialog] = useState<'labels' | 'sample' | 'bulk' | 'export' | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const searchRef = useRef<HTMLInputElement>(null)
  const noteRef = useRef<NoteHandle>(null)
  const ids = useId()

  // The search applies once typing pauses.
  useEffect(() => {
    const t = setTimeout(() => setSearch(searchText.trim()), 300)
    return () => clearTimeout(t)
  }, [searchText])

  const queue = useMemo<Queue>(
    () => ({ datasetId, source, ...(search ? { search } : {}) }),
    [datasetId, source, search],
  )
  const session = useReview(overview?.cleaned ? queue : null)
  const { data: counts } = useApiQuery('review.counts', { queue }, { enabled: !!overview?.cleaned })
  const doc = session.doc
  const textMode: TextMode = mode ?? (doc?.modified ? 'changes' : 'cleaned')

  const run: Record<ReviewCommand, () => void> = {
    keep: () => session.decide('keep'),
    remove: () => session.decide('remove'),
    skip: () => session.skip(),
    undo: () => session.undo(),
    redo: () => session.redo(),
    note: () => noteRef.current?.focus(),
    next: () => session.next(),
    prev: () => session.prev(),
    search: () => searchRef.current?.focus(),
  }
  const runRef = useRef(run)
  useEffect(() => {
    runRef.current = run
  })
  const labelsRef = useRef(overview?.labels ?? [])
  useEffect(() => {
    labelsRef.current = overview?.labels ?? []
  })

  useEffect(() => {
    const byChord = new Map<string, ReviewCommand>()
    for (const [command, chords] of Object.entries(keys) as [ReviewCommand, string[]][])
      for (const c of chords) byChord.set(c, command)
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.defaultPrevented || document.querySelector('dialog[open]')) return
      if (isTyping(e.target)) {
        if (e.key === 'Escape') (e.target as HTMLElement).blur()
        return
      }
      const chord = chordOf(e, isMac)
      const label = /^[1-9]$/.test(chord) && labelsRef.current.find((l) => l.key === chord)
      if (label) {
        e.preventDefault()
        if (session.doc) session.toggleLabel(label.id)
        return
      }
      const command = byChord.get(chord)
      if (!command) return
      e.preventDefault()
      runRef.current[command]()
    }
    window.addEventListener('keydown', onKeyDown)
    return () => window.removeEventListener('keydown', onKeyDown)
    // Keys change only with settings; the handlers are read through refs.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(keys), session.doc, session.toggleLabel])

  if (error) return <Notice tone="error">{error.message}</Notice>
  if (!overview) return <p className="muted">Loading…</p>
  const options = queueOptions(overview)
  const current = options.find((o) => sourceKey(o.source) === sourceKey(source))
  const queueName =
    current?.name ??
    (source.kind === 'cluster' ? `Duplicate cluster #${source.cluster}` : 'Documents')
  const k = (command: ReviewCommand) => <KeyHint keys={keys} command={command} />

  return (
    <div className="review">
      <div className="review-toolbar row">
        <div className="field-inline">
          <label htmlFor={`${ids}-ds`}>Dataset</label>
          <select
            id={`${ids}-ds`}
            className="select"
            value={datasetId}
            onChange={(e) => onDataset(Number(e.target.value))}
          >
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field-inline">
          <label htmlFor={`${ids}-q`}>Queue</label>
          <select
            id={`${ids}-q`}
            className="select"
            value={sourceKey(source)}
            onChange={(e) => setSource(JSON.parse(e.target.value) as QueueSource)}
          >
            {!current && <option value={sourceKey(source)}>{queueName}</option>}
            {options.map((o) => (
              <option key={sourceKey(o.source)} value={sourceKey(o.source)}>
                {o.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field-inline" style={{ flex: 1, minWidth: 180 }}>
          <label htmlFor={`${ids}-s`}>Search</label>
          <input
            id={`${ids}-s`}
            ref={searchRef}
            className="input"
            type="search"
            placeholder="Words in the original or cleaned text ( / )"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
          />
        </div>
        <div className="row" style={{ gap: 6 }}>
          <Button size="small" icon={<Tags size={13} />} onClick={() => setDialog('labels')}>
            Labels…
          </Button>
          <Button
            size="small"
            icon={<FlaskConical size={13} />}
            onClick={() => setDialog('sample')}
            disabled={!overview.cleaned}
          >
            Audit sample…
          </Button>
          <Button
            size="small"
            icon={<Wand2 size={13} />}
            onClick={() => setDialog('bulk')}
            disabled={!overview.cleaned || !counts?.total}
          >
            Bulk…
          </Button>
          <Button size="small" icon={<Download size={13} />} onClick={() => setDialog('export')}>
            Export…
          </Button>
        </div>
      </div>

      {!overview.cleaned ? (
        <Notice tone="info">
          This dataset has not been cleaned yet: there is nothing to review.{' '}
          <Link href="/data">Clean it on the Data screen.</Link>
        </Notice>
      ) : (
        <>
          <ProgressStrip
            datasetId={datasetId}
            overview={overview}
            counts={counts ?? null}
            onRetrain={() =>
              void call(transport, 'review.retrain', { datasetId }).catch((err: Error) =>
                setNotice(err.message),
              )
            }
          />
          <div className="review-layout">
            <QueueList
              queue={queue}
              total={counts?.total ?? 0}
              currentId={doc?.id ?? null}
              onOpen={session.open}
            />
            <section className="review-main" aria-label="Document">
              {doc ? (
                <>
                  <header className="review-doc-head">
                    <div className="row" style={{ gap: 8, minWidth: 0 }}>
                      <h3 className="mono">#{doc.id}</h3>
                      <StatusBadge status={doc.status} decidedBy={doc.decidedBy} />
                      <span className="small muted truncate" title={doc.source}>
                        {doc.source}
                      </span>
                    </div>
                    <div className="segmented" role="radiogroup" aria-label="Which text">
                      {(['changes', 'cleaned', 'original'] as const).map((m) => (
                        <label key={m}>
                          <input
                            type="radio"
                            name={`${ids}-mode`}
                            checked={textMode === m}
                            onChange={() => setMode(m)}
                          />
                          {m === 'changes' ? 'Changes' : m === 'cleaned' ? 'Cleaned' : 'Original'}
                        </label>
                      ))}
                    </div>
                  </header>
                  <div
                    className="doc-text review-text"
                    tabIndex={0}
                    aria-label={`Text of document ${doc.id}`}
                  >
                    <DiffText
                      original={doc.text}
                      cleaned={doc.cleanedText}
                      redactions={doc.redactions}
                      mode={textMode}
                    />
                  </div>
                </>
              ) : (
                <div className="review-empty">
                  {!session.loaded ? (
                    <p className="muted">Loading…</p>
                  ) : counts && counts.total > 0 ? (
                    <p>
                      <strong>Done:</strong> every document in this queue has a decision.
                    </p>
                  ) : (
                    <p className="muted">
                      This queue is empty{search ? ' for this search' : ''}. Pick another queue, or
                      draw an audit sample.
                    </p>
                  )}
                </div>
              )}
              <div className="review-actions" role="toolbar" aria-label="Decide">
                <div className="review-actions-row">
                  <Button
                    variant="primary"
                    icon={<Check size={14} />}
                    disabled={!doc}
                    onClick={run.keep}
                    aria-keyshortcuts={shortcuts(keys, 'keep')}
                  >
                    Keep {k('keep')}
                  </Button>
                  <Button
                    variant="danger"
                    icon={<X size={14} />}
                    disabled={!doc}
                    onClick={run.remove}
                    aria-keyshortcuts={shortcuts(keys, 'remove')}
                  >
                    Remove {k('remove')}
                  </Button>
                  <Button
                    icon={<SkipForward size={14} />}
                    disabled={!doc}
                    onClick={run.skip}
                    aria-keyshortcuts={shortcuts(keys, 'skip')}
                  >
                    Skip {k('skip')}
                  </Button>
                </div>
                <div className="review-actions-row">
                  <Button
                    size="small"
                    variant="ghost"
                    icon={<Undo2 size={14} />}
                    disabled={!overview.undo}
                    title={overview.undo ? `Undo: ${overview.undo.summary}` : 'Nothing to undo'}
                    onClick={run.undo}
                    aria-keyshortcuts={shortcuts(keys, 'undo')}
                  >
                    Undo {k('undo')}
                  </Button>
                  <Button
                    size="small"
                    variant="ghost"
                    icon={<Redo2 size={14} />}
                    disabled={!overview.redo}
                    title={overview.redo ? `Redo: ${overview.redo.summary}` : 'Nothing to redo'}
                    onClick={run.redo}
                    aria-keyshortcuts={shortcuts(keys, 'redo')}
                  >
                    Redo {k('redo')}
                  </Button>
                  <Button
                    size="small"
                    variant="ghost"
                    icon={<StickyNote size={14} />}
                    disabled={!doc}
                    onClick={run.note}
                    aria-keyshortcuts={shortcuts(keys, 'note')}
                  >
                    Note {k('note')}
                  </Button>
                  <Button
                    size="small"
                    variant="ghost"
                    aria-label="Previous"
                    aria-keyshortcuts={shortcuts(keys, 'prev')}
                    icon={<ChevronLeft size={14} />}
                    disabled={!doc}
                    onClick={run.prev}
                  >
                    {k('prev')}
                  </Button>
                  <Button
                    size="small"
                    variant="ghost"
                    aria-label="Next"
                    aria-keyshortcuts={shortcuts(keys, 'next')}
                    icon={<ChevronRight size={14} />}
                    disabled={!doc}
                    onClick={run.next}
                  >
                    {k('next')}
                  </Button>
                </div>
              </div>
              <p className="review-status small" role="status" aria-live="polite">
                {session.error ??
                  notice ??
                  (session.last ? `${session.last.summary}.` : 'Press ? for every key.')}
              </p>
            </section>
            {doc ? (
              <SidePane
                ref={noteRef}
                doc={doc}
                labels={overview.labels}
                busy={session.busy}
                onToggleLabel={session.toggleLabel}
                onSaveNote={session.saveNote}
                onReviewCluster={(cluster) => setSource({ kind: 'cluster', cluster })}
              />
            ) : (
              <aside className="review-side" />
            )}
          </div>
        </>
      )}

      <LabelsDialog
        open={dialog === 'labels'}
        datasetId={datasetId}
        labels={overview.labels}
        onClose={() => setDialog(null)}
      />
      <SampleDialog
        open={dialog === 'sample'}
        datasetId={datasetId}
        onClose={() => setDialog(null)}
        onCreated={(sampleId) => setSource({ kind: 'audit', sampleId })}
      />
      <BulkDialog
        open={dialog === 'bulk'}
        queue={queue}
        queueName={queueName}
        labels={overview.labels}
        onClose={() => setDialog(null)}
        onDone={(summary) => {
          setNotice(summary)
          session.refresh()
        }}
      />
      <PathDialog
        open={dialog === 'export'}
        title="Export review decisions"
        purpose="exportData"
        label="JSON Lines file"
        hint="One object per reviewed document: id, source, decision, the pipeline's own verdict, status, labels, note, time. Existing files are not overwritten."
        confirmLabel="Export"
        onClose={() => setDialog(null)}
        onSubmit={async (out) => {
          await call(transport, 'review.export', { datasetId, out })
          setNotice(`Exporting decisions to ${out}…`)
        }}
      />
    </div>
  )
}

/** The first key of a command, as a hint on its button (hidden from screen readers, which
 * get it from aria-keyshortcuts). */
function KeyHint({ keys, command }: { keys: ReviewKeys; command: ReviewCommand }) {
  const first = keys[command][0]
  return first ? (
    <kbd className="key-hint" aria-hidden>
      {chordLabel(first, isMac)}
    </kbd>
  ) : null
}

/** aria-keyshortcuts for a command: "Control+Shift+Z a" style. */
function shortcuts(keys: ReviewKeys, command: ReviewCommand): string {
  return keys[command]
    .map((c) =>
      c
        .replace('Mod', isMac ? 'Meta' : 'Control')
        .replace(/\+([a-z])$/, (_, k: string) => `+${k.toUpperCase()}`),
    )
    .join(' ')
}
