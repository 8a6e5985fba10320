import { FlaskConical, GitCompare, Plus, Scale } from 'lucide-react'
import { useState } from 'react'
import { Link, useLocation } from 'wouter'
import { useApiQuery } from '../../api/client'
import { Button } from '../../components/Button'
import { EmptyState } from '../../components/EmptyState'
import { Notice } from '../../components/Notice'
import { Page, Panel } from '../../components/Page'
import { ProgressBar } from '../../components/ProgressBar'
import { formatCount, formatDuration } from '../../format'
import { LIVE_RUN_POLL, training } from './live-poll'
import { RunControls } from './RunControls'
import { formatLoss, formatParams, RunStatusBadge } from './RunStatus'

/** Every run in the project: status, progress, cost; select two or more to compare. */
export function RunsPage() {
  const [, navigate] = useLocation()
  const { data: runs } = useApiQuery(
    'runs.list',
    {},
    {
      refetchInterval: (query) => (query.state.data?.some(training) ? LIVE_RUN_POLL.list : false),
    },
  )
  const { data: datasets } = useApiQuery('datasets.list', {})
  const { data: tokenizers } = useApiQuery('tokenizers.list', {})
  const [selected, setSelected] = useState<string[]>([])
  const [error, setError] = useState<string | null>(null)
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]))

  const hasData = (datasets?.length ?? 0) > 0
  const actions = (
    <>
      <Button
        icon={<GitCompare size={14} />}
        disabled={selected.length < 2}
        onClick={() => navigate(`/compare?ids=${selected.join(',')}`)}
      >
        Compare{selected.length >= 2 ? ` (${selected.length})` : ''}
      </Button>
      <Link href="/report" className="btn">
        <Scale size={14} /> Cost report
      </Link>
      <Link href="/new" className="btn btn-primary" aria-disabled={!hasData}>
        <Plus size={14} /> New run
      </Link>
    </>
  )
  return (
    <Page
      title="Train"
      description="Decoder-only models with sparse experts, reduced precision and exact-resume checkpoints."
      actions={actions}
    >
      {error && <Notice tone="error">{error}</Notice>}
      {runs && runs.length === 0 && (
        <EmptyState
          icon={<FlaskConical size={22} />}
          title="No training runs yet"
          steps={[
            { label: 'Import a dataset (Data)', done: hasData },
            {
              label: 'A tokenizer (trained here or from the run form)',
              done: (tokenizers?.length ?? 0) > 0,
            },
            { label: 'Set up a run from a preset', done: false },
          ]}
          actions={
            hasData ? (
              <Link href="/new" className="btn btn-primary">
                New run
              </Link>
            ) : (
              <Link href="~/data" className="btn btn-primary">
                Go to Data
              </Link>
            )
          }
        >
          A run trains a model on an imported dataset. Its loss, throughput and expert load appear
          here live, and it can be paused, resumed, forked from any checkpoint and compared with
          other runs.
        </EmptyState>
      )}
      {runs && runs.length > 0 && (
        <Panel
          title="Runs"
          description={`${runs.length} in this project. Select two or more to compare their curves and settings.`}
        >
          <table className="table">
            <thead>
              <tr>
                <th>
                  <span className="visually-hidden">Select</span>
                </th>
                <th>Run</th>
                <th>Status</th>
                <th>Progress</th>
                <th className="num">Best val. loss</th>
                <th className="num">Parameters</th>
                <th className="num">Tokens</th>
                <th className="num">Time</th>
                <th
                  className="num"
                  title="Measured from the CPU's energy counters (RAPL) or the GPU's power draw, where the machine reports them"
                >
                  Energy
                </th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${r.name} for comparison`}
                      checked={selected.includes(r.id)}
                      onChange={() => toggle(r.id)}
                    />
                  </td>
                  <td>
                    <Link href={`/run/${r.id}`}>{r.name}</Link>
                    <div className="muted small">
                      {r.datasetName ?? '?'} · {r.tokenizerName ?? '?'}
                      {r.moe ? ' · MoE' : ''}
                      {r.precision !== 'fp32' ? ` · ${r.precision}` : ''}
                    </div>
                  </td>
                  <td>
                    <RunStatusBadge status={r.status} />
                  </td>
                  <td style={{ minWidth: 140 }}>
                    <ProgressBar
                      fraction={r.steps ? r.step / r.steps : null}
                      label={`${r.name} progress`}
                    />
                    <span className="muted small">
                      {formatCount(r.step)} / {formatCount(r.steps)} steps
                    </span>
                  </td>
                  <td className="num">{formatLoss(r.bestValLoss)}</td>
                  <td
                    className="num"
                    title={
                      r.moe ? `${formatParams(r.activeParameters)} active per token` : undefined
                    }
                  >
                    {formatParams(r.parameters)}
                  </td>
                  <td className="num">{formatCount(r.tokensSeen)}</td>
                  <td className="num">{r.wallMs ? formatDuration(r.wallMs) : '—'}</td>
                  <td className="num">
                    {r.energyJ === null ? '—' : `${(r.energyJ / 3600).toFixed(2)} Wh`}
                  </td>
                  <td className="num">
                    <RunControls run={r} size="small" onError={setError} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Panel>
      )}
    </Page>
  )
}
