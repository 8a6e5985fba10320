import { Database, Download, Play, Trash2, Upload, UploadCloud } from 'lucide-react'
import { useQueryClient } from '@tanstack/react-query'
import { useCallback, useState, type DragEvent } from 'react'
import {
  call,
  queryKey,
  useApiMutation,
  useApiQuery,
  useEvent,
  useTransport,
} from '../../api/client'
import { useJob } from '../../api/jobs'
import { Button } from '../../components/Button'
import { Dialog } from '../../components/Dialog'
import { EmptyState } from '../../components/EmptyState'
import { PathDialog } from '../../components/forms/PathDialog'
import { Tabs } from '../../components/Tabs'
import { Notice } from '../../components/Notice'
import { Page } from '../../components/Page'
import { formatCount, formatCountOf, formatRelative } from '../../format'
import { isFinished } from '../../../../shared/jobs'
import type { DataDatasetSummary, ImportReport } from '../../../../shared/data/types'
import { DocumentsTab, type DocumentFilter } from './DocumentsTab'
import { ImportDialog, droppedFiles } from './ImportDialog'
import { JobCard } from '../../components/JobCard'
import { ImportErrors, OverviewTab } from './OverviewTab'
import { RulesTab } from './RulesTab'
import { useDatasetJobs, usePendingImports } from './useDataJobs'
import './data.css'

type Tab = 'overview' | 'rules' | 'documents'
const tabs: { id: Tab; label: string }[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'rules', label: 'Rules' },
  { id: 'documents', label: 'Documents' },
]

/** The outcome of an import the user started here, shown until dismissed. */
type Finished = { tone: 'success' | 'error'; text: string; errors: ImportReport['errors'] }

/**
 * Import raw text, clean it with explainable rules, and see why each document was kept,
 * changed or removed. One dataset at a time: its overview, its rules, its documents.
 */
export function DataScreen() {
  const { data: datasets, error } = useApiQuery('datasets.list', {})
  const [selectedId, setSelectedId] = useState<number | null>(null)
  const [importOpen, setImportOpen] = useState(false)
  const [dropped, setDropped] = useState<{ file: File; folder: boolean }[]>([])
  const [dragging, setDragging] = useState(false)
  const [watching, setWatching] = useState<{ id: string; dataset: string } | null>(null)
  const [finished, setFinished] = useState<Finished | null>(null)
  const pending = usePendingImports((datasets ?? []).map((d) => d.name))

  const selected = datasets?.find((d) => d.id === selectedId) ?? datasets?.[0] ?? null

  useJob(watching?.id ?? null, {
    onEnd: (job) => {
      setWatching(null)
      if (job.state === 'succeeded') {
        const r = job.result as ImportReport
        setSelectedId(r.datasetId)
        setFinished({
          tone: 'success',
          text: `Imported ${formatCountOf(r.imported, 'document')} into “${r.dataset}”${r.skipped ? `; ${formatCountOf(r.skipped, 'record')} could not be read` : ''}.`,
          errors: r.errors,
        })
      } else
        setFinished({
          tone: 'error',
          text:
            job.state === 'cancelled'
              ? `The import into “${(job.params as { dataset: string }).dataset}” was cancelled; nothing was kept.`
              : (job.error?.message ?? 'The import failed.'),
          errors: [],
        })
    },
  })

  const openImport = (files: { file: File; folder: boolean }[] = []) => {
    setDropped(files)
    setImportOpen(true)
  }
  const onDrop = (e: DragEvent) => {
    e.preventDefault()
    setDragging(false)
    openImport(droppedFiles(e))
  }

  return (
    <div
      className="data-screen"
      data-dragging={dragging}
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes('Files') || importOpen) return
        e.preventDefault()
        setDragging(true)
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false)
      }}
      onDrop={(e) => (importOpen ? undefined : onDrop(e))}
    >
      <Page
        title="Data"
        description="Import raw text, clean it with rules that explain every decision, and review what they could not decide."
        actions={
          <Button variant="primary" icon={<Upload size={14} />} onClick={() => openImport()}>
            Import…
          </Button>
        }
      >
        {error && <Notice tone="error">{error.message}</Notice>}
        {finished && (
          <div className="stack" style={{ marginBottom: 'var(--space-4)' }}>
            <Notice tone={finished.tone}>
              {finished.text}{' '}
              <button type="button" className="link-button" onClick={() => setFinished(null)}>
                Dismiss
              </button>
            </Notice>
            {finished.errors.length > 0 && <ImportErrors errors={finished.errors} />}
          </div>
        )}
        {pending.map((job) => (
          <JobCard key={job.id} job={job} />
        ))}
        {datasets && datasets.length === 0 && pending.length === 0 && (
          <EmptyState
            icon={<Database size={22} />}
            title="No datasets yet"
            actions={
              <Button
                variant="primary"
                icon={<UploadCloud size={14} />}
                onClick={() => openImport()}
              >
                Choose files or a folder…
              </Button>
            }
          >
            Drop a folder of text, web pages or JSONL exports anywhere on this screen, or choose
            them. Frugal reads .txt, .jsonl, .csv, .parquet and .html, gzipped or not.
          </EmptyState>
        )}
        {datasets && datasets.length > 0 && selected && (
          <div className="data-layout">
            <DatasetList datasets={datasets} selectedId={selected.id} onSelect={setSelectedId} />
            <DatasetView key={selected.id} dataset={selected} />
          </div>
        )}
      </Page>
      {dragging && (
        <div className="drop-overlay" aria-hidden>
          <UploadCloud size={28} />
          <p>Drop to import</p>
        </div>
      )}
      <ImportDialog
        open={importOpen}
        initialFiles={dropped}
        onClose={() => setImportOpen(false)}
        onStarted={(job) => {
          setFinished(null)
          setWatching({ id: job.id, dataset: (job.params as { dataset: string }).dataset })
        }}
      />
    </div>
  )
}

function DatasetList({
  datasets,
  selectedId,
  onSelect,
}: {
  datasets: DataDatasetSummary[]
  selectedId: number
  onSelect: (id: number) => void
}) {
  return (
    <nav className="dataset-list" aria-label="Datasets">
      <h2 className="small muted">Datasets</h2>
      <ul>
        {datasets.map((d) => (
          <li key={d.id}>
            <button
              type="button"
              className="dataset-item"
              aria-current={d.id === selectedId ? 'true' : undefined}
              onClick={() => onSelect(d.id)}
            >
              <span className="dataset-name">{d.name}</span>
              <span className="small muted">
                {formatCountOf(d.documents, 'doc')}
                {d.cleanedAt ? ` · ${formatCount(d.counts.kept)} kept` : ' · not cleaned'}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  )
}

function DatasetView({ dataset }: { dataset: DataDatasetSummary }) {
  const transport = useTransport()
  const [tab, setTab] = useState<Tab>('overview')
  const [filter, setFilter] = useState<DocumentFilter>({})
  const [exportOpen, setExportOpen] = useState(false)
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string } | null>(null)
  const jobs = useDatasetJobs(dataset.id, dataset.name)
  const clean = useApiMutation('data.clean', {
    onError: (e) => setMessage({ tone: 'error', text: e.message }),
  })
  const client = useQueryClient()
  const remove = useApiMutation('data.deleteDataset', {
    // The dataset is gone for the backend at once (its documents follow in a job): drop
    // it from the list now rather than show its view failing until the list refetches.
    onSuccess: () =>
      client.setQueryData<DataDatasetSummary[]>(queryKey('datasets.list', {}), (list) =>
        list?.filter((d) => d.id !== dataset.id),
      ),
  })
  const busy = jobs.length > 0

  useEvent('job.state', (job) => {
    const p = job.params as { datasetId?: number }
    if (p.datasetId !== dataset.id || !isFinished(job.state)) return
    if (job.kind === 'data.clean' && job.state === 'succeeded')
      setTab((t) => (t === 'rules' ? 'overview' : t))
    if (job.state === 'failed')
      setMessage({ tone: 'error', text: job.error?.message ?? `${job.kind} failed.` })
    if (job.kind === 'data.export' && job.state === 'succeeded') {
      const r = job.result as { path: string; documents: number }
      setMessage({
        tone: 'success',
        text: `Exported ${formatCountOf(r.documents, 'document')} to ${r.path}.`,
      })
    }
  })

  const browse = useCallback((f: DocumentFilter) => {
    setFilter(f)
    setTab('documents')
  }, [])
  const runClean = () => {
    setMessage(null)
    clean.mutate({ datasetId: dataset.id })
  }

  return (
    <section className="dataset-view" aria-label={dataset.name}>
      <header className="dataset-header">
        <div>
          <h2>{dataset.name}</h2>
          <p className="small muted">
            {formatCountOf(dataset.documents, 'document')} · imported{' '}
            {formatRelative(dataset.createdAt)}
            {dataset.cleanedAt ? ` · cleaned ${formatRelative(dataset.cleanedAt)}` : ''}
          </p>
        </div>
        <div className="row">
          <Button
            variant="primary"
            icon={<Play size={14} />}
            disabled={busy || clean.isPending}
            onClick={runClean}
          >
            {dataset.cleanedAt ? 'Clean again' : 'Clean'}
          </Button>
          <Button icon={<Download size={14} />} disabled={busy} onClick={() => setExportOpen(true)}>
            Export…
          </Button>
          <Button
            variant="ghost"
            icon={<Trash2 size={14} />}
            aria-label={`Delete ${dataset.name}`}
            disabled={busy}
            onClick={() => setConfirmDelete(true)}
          />
        </div>
      </header>
      {jobs.map((job) => (
        <JobCard key={job.id} job={job} />
      ))}
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
      <Tabs label="Dataset views" tabs={tabs} value={tab} onChange={setTab}>
        {tab === 'overview' && <OverviewTab datasetId={dataset.id} onBrowse={browse} busy={busy} />}
        {tab === 'rules' && (
          <RulesTab
            datasetId={dataset.id}
            datasetName={dataset.name}
            busy={busy}
            onClean={runClean}
          />
        )}
        {tab === 'documents' && (
          <DocumentsTab datasetId={dataset.id} filter={filter} onFilter={setFilter} />
        )}
      </Tabs>
      <PathDialog
        open={exportOpen}
        title={`Export ${dataset.name}`}
        purpose="exportData"
        label="JSON Lines file (kept documents)"
        hint="One JSON object per line: id, source, text (cleaned), status, reasons, language, score, metadata. Existing files are not overwritten."
        confirmLabel="Export"
        onClose={() => setExportOpen(false)}
        onSubmit={(out) =>
          call(transport, 'data.export', { datasetId: dataset.id, out, status: 'kept' })
        }
      />
      <Dialog
        open={confirmDelete}
        title={`Delete ${dataset.name}?`}
        onClose={() => setConfirmDelete(false)}
      >
        <div className="stack">
          <p>
            Its {formatCountOf(dataset.documents, 'document')}, their cleaning results, labels and
            quality models are deleted from the project. Your source files are not touched.
          </p>
          {remove.error && <Notice tone="error">{remove.error.message}</Notice>}
          <div className="row" style={{ justifyContent: 'flex-end' }}>
            <Button onClick={() => setConfirmDelete(false)}>Keep it</Button>
            <Button
              variant="danger"
              icon={<Trash2 size={14} />}
              disabled={remove.isPending}
              onClick={() =>
                remove.mutate(
                  { datasetId: dataset.id },
                  { onSuccess: () => setConfirmDelete(false) },
                )
              }
            >
              Delete dataset
            </Button>
          </div>
        </div>
      </Dialog>
    </section>
  )
}
