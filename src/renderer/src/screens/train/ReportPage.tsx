import { Scale } from 'lucide-react'
import { useState } from 'react'
import { Link } from 'wouter'
import { useApiQuery } from '../../api/client'
import { EmptyState } from '../../components/EmptyState'
import { Page, Panel } from '../../components/Page'
import { formatCount, formatDuration } from '../../format'
import type { RunListItem } from '../../../../shared/runs'
import { compareLower } from '../../../../shared/techniques'
import { formatLoss, formatParams } from './RunStatus'

/** Token counts further apart than this are not an equal-tokens comparison. */
const EQUAL_TOKENS = 0.01

/** Runs that trained on the same dataset with the same tokenizer: only they compare. */
function groups(runs: RunListItem[]): [string, RunListItem[]][] {
  const out = new Map<string, RunListItem[]>()
  for (const r of runs) {
    if (r.bestValLoss === null || r.datasetName === null) continue
    const key = `${r.datasetName} · ${r.tokenizerName ?? '?'}`
    out.set(key, [...(out.get(key) ?? []), r])
  }
  return [...out]
}

/** The default baseline: the plain run (no techniques) that saw the most tokens, else the first. */
function defaultBaseline(runs: RunListItem[]): RunListItem {
  const plain = runs.filter((r) => r.techniques.length === 0)
  return (plain.length ? plain : runs).reduce((a, b) => (b.tokensSeen > a.tokensSeen ? b : a))
}

/**
 * The cost report for the user's own runs: what each technique bought against a baseline
 * run on the same data, measured here (best validation loss, tokens, time, energy).
 */
export function ReportPage() {
  const { data: runs } = useApiQuery('runs.list', {})
  const grouped = groups(runs ?? [])
  return (
    <Page
      title="Cost report"
      description="What each technique bought on your data: every evaluated run against a baseline trained on the same dataset and tokenizer."
      actions={
        <Link href="/" className="btn">
          Back to runs
        </Link>
      }
    >
      {runs && grouped.length === 0 && (
        <EmptyState
          icon={<Scale size={22} />}
          title="No evaluated runs yet"
          steps={[{ label: 'Train a run until its first validation loss', done: false }]}
        >
          A run appears here once it has a validation loss. Train a plain run and one with a
          technique (MoE, reduced precision, QAT, distillation, curriculum, adaptive batch) on the
          same data to see what the technique changed.
        </EmptyState>
      )}
      {grouped.map(([key, members]) => (
        <ReportGroup key={key} title={key} runs={members} />
      ))}
    </Page>
  )
}

function ReportGroup({ title, runs }: { title: string; runs: RunListItem[] }) {
  const [baselineId, setBaselineId] = useState<string | null>(null)
  const baseline = runs.find((r) => r.id === baselineId) ?? defaultBaseline(runs)
  return (
    <Panel
      title={title}
      description="Lower validation loss is better; differences under 0.5% are ties. Compare runs at equal tokens: a run that saw more tokens is flagged."
    >
      <label className="row small" style={{ marginBottom: 8 }}>
        Baseline
        <select
          className="select"
          value={baseline.id}
          onChange={(e) => setBaselineId(e.target.value)}
        >
          {runs.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </label>
      <table className="table" aria-label={`Cost report: ${title}`}>
        <thead>
          <tr>
            <th>Run</th>
            <th>Techniques</th>
            <th className="num">Parameters</th>
            <th className="num">Tokens</th>
            <th className="num">Time</th>
            <th className="num">Tokens/s</th>
            <th className="num">Best val. loss</th>
            <th className="num">vs baseline</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <ReportRow key={r.id} run={r} baseline={baseline} />
          ))}
        </tbody>
      </table>
    </Panel>
  )
}

function ReportRow({ run: r, baseline }: { run: RunListItem; baseline: RunListItem }) {
  const isBaseline = r.id === baseline.id
  const loss = compareLower(r.bestValLoss!, baseline.bestValLoss!)
  const time = baseline.wallMs > 0 ? compareLower(r.wallMs, baseline.wallMs) : null
  const unequal = Math.abs(r.tokensSeen - baseline.tokensSeen) > EQUAL_TOKENS * baseline.tokensSeen
  const sign = (x: number) => `${x > 0 ? '+' : ''}${x.toFixed(2)}%`
  return (
    <tr>
      <td>
        <Link href={`/run/${r.id}`}>{r.name}</Link>
      </td>
      <td>
        {r.techniques.length ? (
          <span className="row" style={{ flexWrap: 'wrap', gap: 4 }}>
            {r.techniques.map((t) => (
              <span key={t} className="badge">
                {t}
              </span>
            ))}
          </span>
        ) : (
          <span className="muted small">plain</span>
        )}
      </td>
      <td className="num" title={`${formatParams(r.activeParameters)} active per token`}>
        {formatParams(r.parameters)}
      </td>
      <td className="num">{formatCount(r.tokensSeen)}</td>
      <td className="num">{formatDuration(r.wallMs)}</td>
      <td className="num">
        {r.wallMs > 0 ? formatCount(Math.round(r.tokensSeen / (r.wallMs / 1000))) : '—'}
      </td>
      <td className="num">{formatLoss(r.bestValLoss)}</td>
      <td className="num" style={{ whiteSpace: 'nowrap' }}>
        {isBaseline ? (
          <span className="badge" data-tone="accent">
            baseline
          </span>
        ) : (
          <span className="stack" style={{ gap: 2, alignItems: 'flex-end' }}>
            <span
              className="badge"
              data-tone={
                loss.verdict === 'better'
                  ? 'success'
                  : loss.verdict === 'worse'
                    ? 'danger'
                    : undefined
              }
            >
              {loss.verdict === 'tie' ? 'tie' : loss.verdict} ({sign(loss.percent)} loss)
            </span>
            {time && <span className="muted small">{sign(time.percent)} time</span>}
            {unequal && (
              <span
                className="small"
                style={{ color: 'var(--warning, #f08c00)' }}
                title="Validation loss falls as a run sees more tokens: compare runs trained for the same number of tokens."
              >
                unequal tokens
              </span>
            )}
          </span>
        )}
      </td>
    </tr>
  )
}
