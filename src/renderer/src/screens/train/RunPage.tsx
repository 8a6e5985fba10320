import { useQueryClient } from '@tanstack/react-query'
import { GitBranch, Search, Trash2 } from 'lucide-react'
import { useState } from 'react'
import { Link, useLocation } from 'wouter'
import { call, useApiQuery, useTransport } from '../../api/client'
import { useJob } from '../../api/jobs'
import { Button } from '../../components/Button'
import { Dialog } from '../../components/Dialog'
import { Notice } from '../../components/Notice'
import { Page, Panel } from '../../components/Page'
import { ProgressBar } from '../../components/ProgressBar'
import { formatBytes, formatCount, formatDateTime, formatDuration } from '../../format'
import type { CheckpointSummary, RunDetail } from '../../../../shared/runs'
import { ExpertHeatmap } from './ExpertHeatmap'
import { LIVE_RUN_POLL, training } from './live-poll'
import { RunCharts } from './RunCharts'
import { RunControls } from './RunControls'
import { formatLoss, formatParams, RunStatusBadge } from './RunStatus'

function ForkDialog({
  run,
  checkpoint,
  onClose,
}: {
  run: RunDetail
  checkpoint: CheckpointSummary | null
  onClose: () => void
}) {
  const transport = useTransport()
  const client = useQueryClient()
  const [, navigate] = useLocation()
  const [name, setName] = useState(`${run.name}-fork`)
  const [steps, setSteps] = useState(run.train.steps + 1000)
  const [lr, setLr] = useState(run.train.learningRate)
  const [error, setError] = useState<string | null>(null)
  if (!checkpoint) return null
  const fork = async () => {
    try {
      const created = await call(transport, 'runs.fork', {
        id: run.id,
        checkpointId: checkpoint.id,
        name,
        train: { steps, learningRate: lr },
      })
      await call(transport, 'runs.start', { id: created.id })
      await client.invalidateQueries({ queryKey: ['runs.list'] })
      onClose()
      navigate(`/run/${created.id}`)
    } catch (err) {
      setError((err as Error).message)
    }
  }
  return (
    <Dialog open title={`Fork from step ${checkpoint.step}`} onClose={onClose}>
      <form className="stack" onSubmit={(e) => (e.preventDefault(), void fork())}>
        <p className="muted small">
          A new run that starts from this checkpoint's weights, optimizer state and step, with the
          settings below (the rest are copied from {run.name}).
        </p>
        <div className="field">
          <label htmlFor="fork-name">Name</label>
          <input
            id="fork-name"
            className="input"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="fork-steps">Total steps</label>
          <input
            id="fork-steps"
            className="input"
            type="number"
            min={checkpoint.step + 1}
            value={steps}
            onChange={(e) => setSteps(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="fork-lr">Peak learning rate</label>
          <input
            id="fork-lr"
            className="input"
            type="number"
            step="any"
            value={lr}
            onChange={(e) => setLr(Number(e.target.value))}
          />
        </div>
        {error && <Notice tone="error">{error}</Notice>}
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" icon={<GitBranch size={14} />}>
            Fork and start
          </Button>
        </div>
      </form>
    </Dialog>
  )
}

function Logs({ runId, live }: { runId: string; live: boolean }) {
  const [query, setQuery] = useState('')
  const { data } = useApiQuery(
    'runs.logs',
    { id: runId, ...(query ? { query } : {}), limit: 2000 },
    { refetchInterval: live ? LIVE_RUN_POLL.log : false },
  )
  return (
    <div className="stack">
      <label className="row small" style={{ flexWrap: 'nowrap' }}>
        <Search size={14} aria-hidden />
        <input
          className="input"
          style={{ flex: 1 }}
          placeholder="Search the log"
          aria-label="Search the log"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </label>
      {data && data.length === 0 ? (
        <p className="muted small">{query ? 'No line matches.' : 'Nothing logged yet.'}</p>
      ) : (
        <pre className="log" aria-label="Run log" style={{ maxHeight: 320 }}>
          {(data ?? [])
            .map((l) => `${l.at.slice(0, 19).replace('T', ' ')} ${l.level.padEnd(5)} ${l.message}`)
            .join('\n')}
        </pre>
      )}
    </div>
  )
}

/** One run: controls, live charts, expert load, checkpoints, settings and logs. */
export function RunPage({ id }: { id: string }) {
  const transport = useTransport()
  const client = useQueryClient()
  const [, navigate] = useLocation()
  const [error, setError] = useState<string | null>(null)
  const [forkFrom, setForkFrom] = useState<CheckpointSummary | null>(null)
  // Polled while it trains (LIVE_RUN_POLL says why), here or from the CLI.
  const { data: run, error: loadError } = useApiQuery(
    'runs.get',
    { id },
    {
      refetchInterval: (query) =>
        query.state.data && training(query.state.data) ? LIVE_RUN_POLL.step : false,
    },
  )
  const live = run?.jobId !== null && run?.jobId !== undefined
  const { data: metrics } = useApiQuery(
    'runs.metrics',
    { id, maxPoints: 1500 },
    { refetchInterval: live ? LIVE_RUN_POLL.metrics : false },
  )
  const { data: load } = useApiQuery(
    'runs.expertLoad',
    { id, maxPoints: 200 },
    { enabled: !!run?.moe, refetchInterval: live ? LIVE_RUN_POLL.expertLoad : false },
  )
  useJob(run?.jobId ?? null, {
    onEnd: (job) => {
      if (job.state === 'failed' && job.error) setError(job.error.message)
    },
  })

  if (loadError)
    return (
      <Page title="Run">
        <Notice tone="error">{loadError.message}</Notice>
      </Page>
    )
  if (!run)
    return (
      <Page title="Run">
        <p className="muted">Loading…</p>
      </Page>
    )

  const remove = async () => {
    try {
      await call(transport, 'runs.delete', { id })
      await client.invalidateQueries({ queryKey: ['runs.list'] })
      navigate('/')
    } catch (err) {
      setError((err as Error).message)
    }
  }
  const eta = live && run.step > 0 ? (run.wallMs / run.step) * (run.steps - run.step) : null
  return (
    <Page
      title={run.name}
      description={`${run.datasetName ?? '?'} · ${run.tokenizerName ?? '?'} · ${formatParams(run.parameters)} parameters${run.moe ? ` (${formatParams(run.activeParameters)} active)` : ''} · ${run.precision}${run.backend ? ` · ${run.backend}` : ''}`}
      actions={
        <>
          <Link href="/" className="btn">
            All runs
          </Link>
          <RunControls run={run} onError={setError} />
        </>
      }
    >
      <div className="stack">
        {(error ?? run.error) && <Notice tone="error">{error ?? run.error}</Notice>}
        <section className="panel run-progress" aria-label="Progress">
          <div className="row" style={{ justifyContent: 'space-between' }}>
            <span>
              <RunStatusBadge status={run.status} /> step {formatCount(run.step)} of{' '}
              {formatCount(run.steps)} · {formatCount(run.tokensSeen)} tokens ·{' '}
              {formatDuration(run.wallMs)} of training
              {eta !== null ? ` · about ${formatDuration(eta)} left` : ''}
            </span>
            <span>
              train loss <strong>{formatLoss(run.trainLoss)}</strong> · best validation{' '}
              <strong>{formatLoss(run.bestValLoss)}</strong>
            </span>
          </div>
          <ProgressBar fraction={run.steps ? run.step / run.steps : null} label="Run progress" />
        </section>

        {metrics && metrics.lastStep > 0 ? (
          <Panel
            title="Metrics"
            description="Every step is kept in the project; long runs are drawn from the minimum and maximum of each stretch of steps."
          >
            <RunCharts metrics={metrics} />
          </Panel>
        ) : (
          <Panel title="Metrics">
            <p className="muted small">
              {live
                ? 'Waiting for the first steps…'
                : 'No steps yet. Start the run to see its curves.'}
            </p>
          </Panel>
        )}

        {run.moe && (
          <Panel
            title="Expert load"
            description="How evenly the router spreads tokens over experts, per MoE layer."
          >
            {load ? <ExpertHeatmap data={load} /> : <p className="muted small">Loading…</p>}
          </Panel>
        )}

        <Panel
          title="Checkpoints"
          description="Full checkpoints and lossless deltas; resume continues from the newest, a fork from any."
        >
          {run.checkpoints.length === 0 ? (
            <p className="muted small">
              None yet: the first is written at step {run.train.checkpointEvery || run.train.steps},
              or on pause and stop.
            </p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th className="num">Step</th>
                  <th>Kind</th>
                  <th>Why</th>
                  <th className="num">Size</th>
                  <th className="num">Val. loss</th>
                  <th>Saved</th>
                  <th>
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {run.checkpoints.map((c) => (
                  <tr key={c.id}>
                    <td className="num">{formatCount(c.step)}</td>
                    <td>{c.kind}</td>
                    <td>{c.reason}</td>
                    <td className="num" title={`${formatBytes(c.rawBytes)} uncompressed`}>
                      {formatBytes(c.storedBytes)} ({(c.rawBytes / c.storedBytes).toFixed(2)}×)
                    </td>
                    <td className="num">{formatLoss(c.valLoss)}</td>
                    <td>{formatDateTime(c.createdAt)}</td>
                    <td className="num">
                      <Button
                        size="small"
                        icon={<GitBranch size={13} />}
                        onClick={() => setForkFrom(c)}
                        aria-label={`Fork from step ${c.step}`}
                      >
                        Fork
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>

        <Panel title="Log" description="What the training job reported, newest last.">
          <Logs runId={id} live={live} />
        </Panel>

        <Panel
          title="Settings"
          actions={
            <Button
              size="small"
              variant="danger"
              icon={<Trash2 size={13} />}
              disabled={live}
              onClick={() => void remove()}
            >
              Delete run
            </Button>
          }
        >
          <pre className="log" aria-label="Run settings">
            {JSON.stringify({ model: run.model, train: run.train, data: run.data }, null, 2)}
          </pre>
        </Panel>
      </div>
      <ForkDialog run={run} checkpoint={forkFrom} onClose={() => setForkFrom(null)} />
    </Page>
  )
}
