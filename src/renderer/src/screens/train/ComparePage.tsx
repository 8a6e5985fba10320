import { useQueries } from '@tanstack/react-query'
import { useState } from 'react'
import { Link, useSearch } from 'wouter'
import { call, useTransport } from '../../api/client'
import { TimeSeriesChart, type ChartSeries } from '../../components/charts/TimeSeriesChart'
import { Page, Panel } from '../../components/Page'
import { formatDuration } from '../../format'
import type { RunDetail, RunMetrics } from '../../../../shared/runs'
import { formatLoss, formatParams } from './RunStatus'
import { align, smooth } from './series'

const palette = ['#3b5bdb', '#e8590c', '#2b8a3e', '#ae3ec9', '#1098ad', '#f08c00']

/** Flatten a settings object to dotted keys, for the diff. */
function flatten(obj: unknown, prefix = ''): Record<string, string> {
  if (obj === null || typeof obj !== 'object') return { [prefix]: JSON.stringify(obj) }
  return Object.entries(obj as Record<string, unknown>).reduce<Record<string, string>>(
    (acc, [k, v]) => ({ ...acc, ...flatten(v, prefix ? `${prefix}.${k}` : k) }),
    {},
  )
}

/** Two or more runs: curves overlaid, costs side by side, and the settings that differ. */
export function ComparePage() {
  const transport = useTransport()
  const ids = (new URLSearchParams(useSearch()).get('ids') ?? '').split(',').filter(Boolean)
  const [smoothing, setSmoothing] = useState(0.6)
  const runs = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['runs.get', { id }],
      queryFn: () => call(transport, 'runs.get', { id }),
    })),
  })
  const metrics = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['runs.metrics', { id, names: ['loss', 'val_loss'], maxPoints: 1500 }],
      queryFn: () =>
        call(transport, 'runs.metrics', { id, names: ['loss', 'val_loss'], maxPoints: 1500 }),
      refetchInterval: 5000,
    })),
  })
  const details = runs.map((q) => q.data).filter((r): r is RunDetail => !!r)
  const series = metrics.map((q) => q.data).filter((m): m is RunMetrics => !!m)
  if (details.length < ids.length || series.length < ids.length)
    return (
      <Page title="Compare runs">
        <p className="muted">Loading…</p>
      </Page>
    )

  const curves = (name: string, label: string) => {
    const [xs, ...cols] = align(series.map((m) => m.series[name]))
    const data = [xs, ...cols.map((c) => (name === 'loss' ? smooth(c, smoothing) : c))]
    const s: ChartSeries[] = details.map((r, i) => ({
      label: `${r.name} ${label}`,
      color: palette[i % palette.length],
      points: name === 'val_loss',
    }))
    return { data, s }
  }
  const trainCurves = curves('loss', 'train')
  const valCurves = curves('val_loss', 'val.')
  const flat = details.map((r) => flatten({ model: r.model, train: r.train, data: r.data }))
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort()
  const differing = keys.filter((k) => new Set(flat.map((f) => f[k] ?? '—')).size > 1)
  return (
    <Page
      title="Compare runs"
      description={details.map((r) => r.name).join(' · ')}
      actions={
        <Link href="/" className="btn">
          All runs
        </Link>
      }
    >
      <div className="stack">
        <Panel
          title="Training loss"
          actions={
            <label className="row small">
              Smoothing
              <input
                type="range"
                min={0}
                max={0.99}
                step={0.01}
                value={smoothing}
                onChange={(e) => setSmoothing(Number(e.target.value))}
                aria-label="Smoothing"
              />
            </label>
          }
        >
          <TimeSeriesChart
            data={trainCurves.data}
            series={trainCurves.s}
            xLabel="step"
            height={260}
            summary="Training loss of the compared runs"
          />
        </Panel>
        <Panel title="Validation loss">
          <TimeSeriesChart
            data={valCurves.data}
            series={valCurves.s}
            xLabel="step"
            height={220}
            summary="Validation loss of the compared runs"
          />
        </Panel>
        <Panel title="Results and cost">
          <table className="table">
            <thead>
              <tr>
                <th>Run</th>
                <th className="num">Best val. loss</th>
                <th className="num">Parameters (active)</th>
                <th className="num">Steps</th>
                <th className="num">Tokens</th>
                <th className="num">Time</th>
                <th className="num">Energy</th>
                <th>Backend</th>
              </tr>
            </thead>
            <tbody>
              {details.map((r) => (
                <tr key={r.id}>
                  <td>{r.name}</td>
                  <td className="num">{formatLoss(r.bestValLoss)}</td>
                  <td className="num">
                    {formatParams(r.parameters)} ({formatParams(r.activeParameters)})
                  </td>
                  <td className="num">{r.step.toLocaleString()}</td>
                  <td className="num">{r.tokensSeen.toLocaleString()}</td>
                  <td className="num">{formatDuration(r.wallMs)}</td>
                  <td className="num">
                    {r.energyJ === null ? 'not measured' : `${(r.energyJ / 3600).toFixed(2)} Wh`}
                  </td>
                  <td>{r.backend ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Panel>
        <Panel
          title="Settings that differ"
          description={
            differing.length
              ? `${differing.length} of ${keys.length}`
              : 'None: the runs share every setting.'
          }
        >
          {differing.length > 0 && (
            <table className="table" aria-label="Settings that differ">
              <thead>
                <tr>
                  <th>Setting</th>
                  {details.map((r) => (
                    <th key={r.id}>{r.name}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {differing.map((k) => (
                  <tr key={k}>
                    <td className="mono">{k}</td>
                    {flat.map((f, i) => (
                      <td key={i} className="mono">
                        {f[k] ?? '—'}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
      </div>
    </Page>
  )
}
