import { Boxes, Download, Gauge, ListChecks, Upload } from 'lucide-react'
import { useState } from 'react'
import { Link } from 'wouter'
import { useApiQuery, useEvent } from '../../api/client'
import { useActiveJobs } from '../../app/useJobs'
import { Button } from '../../components/Button'
import { EmptyState } from '../../components/EmptyState'
import { JobCard } from '../../components/JobCard'
import { Notice } from '../../components/Notice'
import { Page, Panel } from '../../components/Page'
import { formatBytes, formatCount, formatDateTime } from '../../format'
import type { JobKind, JobResults } from '../../../../shared/jobs'
import type { CheckpointSummary, RunDetail, RunListItem } from '../../../../shared/runs'
import { formatLoss, formatParams, RunStatusBadge } from '../train/RunStatus'
import { EvalsTable } from './EvalsTable'
import { ExportDialog, ImportDialog, McDialog, PerplexityDialog } from './ModelDialogs'
import './models.css'

const modelJobs: JobKind[] = ['model.export', 'eval.perplexity', 'eval.mc']

export function ModelsScreen() {
  const { data: runs } = useApiQuery('runs.list', {})
  const ready = runs?.filter((r) => r.checkpointCount > 0) ?? []
  const [chosen, setChosen] = useState<string | null>(null)
  const [importing, setImporting] = useState(false)
  const [imported, setImported] = useState<{ tone: 'success' | 'error'; text: string } | null>(null)
  const selected = ready.find((r) => r.id === chosen) ?? ready[0] ?? null
  const importJobs = useActiveJobs().filter((j) => j.kind === 'model.import')
  useEvent('job.state', (job) => {
    if (job.kind !== 'model.import') return
    if (job.state === 'failed')
      setImported({ tone: 'error', text: job.error?.message ?? 'The import failed.' })
    if (job.state !== 'succeeded') return
    const r = job.result as JobResults['model.import']
    setChosen(r.runId)
    setImported({
      tone: 'success',
      text: `Imported ${r.name}: ${formatParams(r.parameters)} parameters (${r.dtype}), tokenizer “${r.tokenizerName}”. Generate from it under Evaluate, or start a new run from it under Train.`,
    })
  })
  return (
    <Page
      title="Models"
      description="Checkpoints of your runs: measure them, and export them for other tools."
      actions={
        <Button icon={<Upload size={14} />} onClick={() => setImporting(true)}>
          Import model…
        </Button>
      }
    >
      {importJobs.map((job) => (
        <JobCard key={job.id} job={job} />
      ))}
      {imported && <Notice tone={imported.tone}>{imported.text}</Notice>}
      <ImportDialog open={importing} onClose={() => setImporting(false)} />
      {runs && ready.length === 0 ? (
        <EmptyState
          icon={<Boxes size={22} />}
          title="No models yet"
          actions={
            <Link href="/train" className="btn btn-primary">
              Go to Train
            </Link>
          }
        >
          Every checkpoint a training run saves appears here, ready to evaluate (perplexity,
          multiple-choice benchmarks) and to export as safetensors with a Hugging Face config.json
          and tokenizer.json (full precision, bf16 or fp16) or as a GGUF file for llama.cpp, Ollama
          and LM Studio (f32, f16 or q8_0). A model folder exported earlier, or an open model
          (Llama, SmolLM2, Qwen2.5, Qwen3), can be imported too.
        </EmptyState>
      ) : (
        <div className="models-layout">
          <nav className="models-list" aria-label="Runs with checkpoints">
            {ready.map((r) => (
              <RunButton
                key={r.id}
                run={r}
                selected={r.id === selected?.id}
                onClick={() => setChosen(r.id)}
              />
            ))}
          </nav>
          {selected && <ModelDetail key={selected.id} runId={selected.id} />}
        </div>
      )}
    </Page>
  )
}

function RunButton({
  run,
  selected,
  onClick,
}: {
  run: RunListItem
  selected: boolean
  onClick: () => void
}) {
  return (
    <button
      type="button"
      className="models-run"
      aria-current={selected ? 'true' : undefined}
      onClick={onClick}
    >
      <span className="row" style={{ justifyContent: 'space-between' }}>
        <strong>{run.name}</strong>
        <RunStatusBadge status={run.status} />
      </span>
      <span className="small muted">
        {formatParams(run.parameters)} params
        {run.moe ? ` (${formatParams(run.activeParameters)} active)` : ''} · {run.checkpointCount}{' '}
        {run.checkpointCount === 1 ? 'checkpoint' : 'checkpoints'} · best val.{' '}
        {formatLoss(run.bestValLoss)}
      </span>
    </button>
  )
}

type Action = 'export' | 'perplexity' | 'mc'

function ModelDetail({ runId }: { runId: string }) {
  const { data: run } = useApiQuery('runs.get', { id: runId })
  const { data: evals } = useApiQuery('models.evals', { runId })
  const jobs = useActiveJobs().filter(
    (j) => modelJobs.includes(j.kind) && (j.params as { runId?: string }).runId === runId,
  )
  const [action, setAction] = useState<{ kind: Action; checkpoint: CheckpointSummary } | null>(null)
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string } | null>(null)

  useEvent('job.state', (job) => {
    if (!modelJobs.includes(job.kind) || (job.params as { runId?: string }).runId !== runId) return
    if (job.state === 'failed') setMessage({ tone: 'error', text: job.error?.message ?? 'Failed.' })
    if (job.state !== 'succeeded') return
    if (job.kind === 'model.export') {
      const r = job.result as JobResults['model.export']
      setMessage({
        tone: 'success',
        text: `Exported ${formatParams(r.parameters)} ${r.format === 'peft' ? 'adapter ' : ''}parameters (${r.format === 'gguf' ? `GGUF ${r.dtype}` : r.dtype}, ${formatBytes(r.bytes)}) to ${r.dir}: ${r.files.join(', ')}.${r.quantization ? ` Validation perplexity ${r.quantization.quantized.perplexity.toFixed(3)} with the ${r.quantization.dtype} weights, ${r.quantization.fp32.perplexity.toFixed(3)} with fp32.` : ''}`,
      })
    } else setMessage(null)
  })

  if (!run) return <p className="muted small">Loading…</p>
  const newest = run.checkpoints.at(-1) ?? null
  const open = (kind: Action, checkpoint: CheckpointSummary | null) =>
    checkpoint && setAction({ kind, checkpoint })
  return (
    <div className="stack models-detail">
      <header className="row" style={{ justifyContent: 'space-between', flexWrap: 'wrap' }}>
        <div>
          <h2>{run.name}</h2>
          <p className="small muted">
            {run.model.layers} layers × width {run.model.width}, {run.model.heads} heads, context{' '}
            {formatCount(run.model.contextLength)}
            {run.model.moe
              ? `, ${run.model.moe.routedExperts} routed + ${run.model.moe.sharedExperts} shared experts (top-${run.model.moe.topK})`
              : ''}{' '}
            · trained on {run.datasetName ?? 'a deleted dataset'} · {run.tokenizerName ?? ''}
          </p>
        </div>
        <div className="row">
          <Button icon={<Gauge size={14} />} onClick={() => open('perplexity', newest)}>
            Perplexity…
          </Button>
          <Button icon={<ListChecks size={14} />} onClick={() => open('mc', newest)}>
            Multiple choice…
          </Button>
          <Button
            variant="primary"
            icon={<Download size={14} />}
            onClick={() => open('export', newest)}
          >
            Export…
          </Button>
        </div>
      </header>
      {jobs.map((job) => (
        <JobCard key={job.id} job={job} />
      ))}
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
      <Panel
        title="Checkpoints"
        description="Newest first. The buttons above use the newest; each row's act on that checkpoint."
      >
        <table className="table" aria-label="Checkpoints">
          <thead>
            <tr>
              <th className="num">Step</th>
              <th className="num">Train loss</th>
              <th className="num">Val. loss</th>
              <th className="num">Stored</th>
              <th>Saved</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {[...run.checkpoints].reverse().map((c) => (
              <tr key={c.id}>
                <td className="num">{formatCount(c.step)}</td>
                <td className="num">{formatLoss(c.trainLoss)}</td>
                <td className="num">{formatLoss(c.valLoss)}</td>
                <td className="num">{formatBytes(c.storedBytes)}</td>
                <td className="small">{formatDateTime(c.createdAt)}</td>
                <td className="num">
                  <span className="row" style={{ gap: 4, justifyContent: 'flex-end' }}>
                    <Button
                      size="small"
                      onClick={() => open('perplexity', c)}
                      aria-label={`Perplexity at step ${c.step}`}
                    >
                      Perplexity
                    </Button>
                    <Button
                      size="small"
                      icon={<Download size={13} />}
                      onClick={() => open('export', c)}
                      aria-label={`Export step ${c.step}`}
                    >
                      Export
                    </Button>
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
      <Panel
        title="Evaluations"
        description="Stored with each checkpoint: perplexity on held-out text, multiple-choice accuracy next to chance."
      >
        {evals && evals.length > 0 ? (
          <EvalsTable evals={evals} />
        ) : (
          <p className="small muted">
            None yet. Measure perplexity on the validation split, or score a benchmark folder in the
            MMLU layout.
          </p>
        )}
      </Panel>
      <Details run={run} />
      <ExportDialog
        run={run}
        checkpoint={action?.kind === 'export' ? action.checkpoint : null}
        onClose={() => setAction(null)}
      />
      <PerplexityDialog
        run={run}
        checkpoint={action?.kind === 'perplexity' ? action.checkpoint : null}
        onClose={() => setAction(null)}
      />
      <McDialog
        run={run}
        checkpoint={action?.kind === 'mc' ? action.checkpoint : null}
        onClose={() => setAction(null)}
      />
    </div>
  )
}

function Details({ run }: { run: RunDetail }) {
  return (
    <Panel title="Architecture" description="As exported in config.json (see docs/MODEL.md).">
      <pre className="log" aria-label="Model settings">
        {JSON.stringify(run.model, null, 2)}
      </pre>
    </Panel>
  )
}
