import { RefreshCw } from 'lucide-react'
import { useState } from 'react'
import { useApiMutation, useApiQuery } from '../../api/client'
import { Button } from '../../components/Button'
import { BarChart } from '../../components/charts/BarChart'
import { Histogram } from '../../components/charts/Histogram'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import { formatCount, formatDateTime, formatDuration } from '../../format'
import { deciderTitles } from '../../../../shared/data/catalog'
import type { DatasetStats, ImportReport } from '../../../../shared/data/types'
import type { DocumentFilter } from './DocumentsTab'

interface OverviewTabProps {
  datasetId: number
  /** Open the document browser with a filter (a chart bar, a cluster). */
  onBrowse: (filter: DocumentFilter) => void
  busy: boolean
}

const percent = (n: number, of: number) => (of ? `${Math.round((n / of) * 100)}%` : '—')

/** A dataset's statistics: sizes, what the rules removed, languages, scores, duplicates. */
export function OverviewTab({ datasetId, onBrowse, busy }: OverviewTabProps) {
  const { data: stats, error } = useApiQuery('data.stats', { datasetId })
  const { data: rules } = useApiQuery('data.rules', { datasetId })
  const { data: imports } = useApiQuery('data.imports', { datasetId })
  if (error) return <Notice tone="error">{error.message}</Notice>
  if (!stats) return <p className="muted">Loading statistics…</p>
  const cleaned = stats.counts.pending < stats.documents
  const band = rules?.rules.quality
  return (
    <div className="stack" style={{ gap: 'var(--space-4)' }}>
      <div className="stat-cards" role="list" aria-label="Dataset size">
        <StatCard
          label="Documents"
          value={formatCount(stats.documents)}
          detail={cleaned ? `${formatCount(stats.kept.documents)} kept` : 'not cleaned yet'}
        />
        <StatCard
          label="Characters"
          value={formatCount(stats.characters)}
          detail={cleaned ? `${formatCount(stats.kept.characters)} kept` : undefined}
        />
        <StatCard
          label="Estimated tokens"
          value={formatCount(stats.estimatedTokens)}
          detail={
            cleaned ? `${formatCount(stats.kept.estimatedTokens)} kept` : '≈ 4 characters each'
          }
        />
        <StatCard
          label="Kept · removed · review"
          value={`${percent(stats.counts.kept, stats.documents)} · ${percent(stats.counts.removed, stats.documents)} · ${percent(stats.counts.review, stats.documents)}`}
          detail={`${formatCount(stats.modified)} kept with changes`}
          onClick={stats.counts.review ? () => onBrowse({ status: 'review' }) : undefined}
          action="Show the documents to review"
        />
      </div>
      {!cleaned && (
        <Notice tone="info">
          Not cleaned yet. Check the rules, then run cleaning: every document gets a status and the
          reasons for it.
        </Notice>
      )}
      {stats.lastClean && <LastClean stats={stats} />}
      {cleaned && (
        <div className="chart-grid">
          <Panel
            title="Removed or flagged, by rule"
            description="Click a rule to see its documents."
          >
            {stats.byRule.length ? (
              <BarChart
                caption="Documents removed or sent to review by each rule"
                unit="documents"
                valueLabel="removed"
                extraLabel="to review"
                format={formatCount}
                bars={stats.byRule.map((r) => ({
                  key: r.rule,
                  label: deciderTitles[r.rule] ?? r.rule,
                  value: r.removed,
                  extra: r.review,
                  onSelect: () => onBrowse({ rule: r.rule }),
                }))}
              />
            ) : (
              <p className="muted small">No rule removed anything.</p>
            )}
          </Panel>
          <Panel title="Languages" description="As identified by the language rule.">
            {stats.languages.length ? (
              <BarChart
                caption="Documents by detected language"
                unit="documents"
                format={formatCount}
                bars={stats.languages.slice(0, 10).map((l) => ({
                  key: l.language,
                  label: l.language,
                  value: l.documents,
                  onSelect: () => onBrowse({ language: l.language }),
                }))}
              />
            ) : (
              <p className="muted small">The language rule did not run.</p>
            )}
          </Panel>
          <Panel
            title="Quality score"
            description="The quality model's P(keep) for every document."
          >
            {stats.model ? (
              <Histogram
                caption="Documents by quality score"
                xLabel="score"
                format={formatCount}
                bins={stats.scoreHistogram}
                {...(band
                  ? {
                      highlight: {
                        from: band.reviewLow,
                        to: band.reviewHigh,
                        label: `review band ${band.reviewLow}–${band.reviewHigh}`,
                      },
                    }
                  : {})}
              />
            ) : (
              <p className="muted small">
                No quality model yet: it needs 50 or more examples of both keep and remove.
              </p>
            )}
            <QualityModel stats={stats} datasetId={datasetId} busy={busy} />
          </Panel>
          <Panel
            title="Duplicates"
            description={`${formatCount(stats.duplicates.clusters)} clusters; ${formatCount(stats.duplicates.removed)} copies removed.`}
          >
            {stats.duplicates.largest.length ? (
              <ul className="cluster-list" aria-label="Largest duplicate clusters">
                {stats.duplicates.largest.map((c) => (
                  <li key={c.clusterId}>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => onBrowse({ cluster: c.clusterId })}
                    >
                      {formatCount(c.size)} documents
                    </button>
                    <span className="muted small truncate">{c.preview}</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted small">No duplicates found.</p>
            )}
          </Panel>
        </div>
      )}
      {stats.redactions && Object.keys(stats.redactions).length > 0 && (
        <p className="small muted">
          Redacted:{' '}
          {Object.entries(stats.redactions)
            .map(([type, n]) => `${formatCount(n)} ${type.toLowerCase().replace('_', ' ')}`)
            .join(', ')}
          .
        </p>
      )}
      {imports && imports.length > 0 && <ImportReports reports={imports} />}
    </div>
  )
}

function StatCard({
  label,
  value,
  detail,
  onClick,
  action,
}: {
  label: string
  value: string
  detail?: string | undefined
  onClick?: (() => void) | undefined
  action?: string
}) {
  const body = (
    <>
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {detail && <span className="stat-detail">{detail}</span>}
    </>
  )
  return (
    <div className="stat-card" role="listitem">
      {onClick ? (
        <button
          type="button"
          className="stat-button"
          onClick={onClick}
          aria-label={`${label}: ${value}. ${action ?? ''}`}
        >
          {body}
        </button>
      ) : (
        body
      )}
    </div>
  )
}

function LastClean({ stats }: { stats: DatasetStats }) {
  const last = stats.lastClean!
  if (last.state === 'running') return null
  if (last.state !== 'done')
    return (
      <Notice tone="error">
        The last cleaning ({formatDateTime(last.at)}) did not finish ({last.state}): some documents
        may show older results. Run cleaning again.
      </Notice>
    )
  const s = last.summary
  return (
    <p className="small muted">
      Cleaned {formatDateTime(last.at)}
      {s
        ? ` in ${formatDuration(s.timings.total)}: ${formatCount(s.kept)} kept, ${formatCount(s.modified)} kept with changes, ${formatCount(s.removed)} removed, ${formatCount(s.review)} to review.`
        : '.'}
    </p>
  )
}

function QualityModel({
  stats,
  datasetId,
  busy,
}: {
  stats: DatasetStats
  datasetId: number
  busy: boolean
}) {
  const retrain = useApiMutation('data.retrain')
  const m = stats.model
  const accuracy = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`)
  return (
    <div className="stack" style={{ gap: 6, marginTop: 'var(--space-3)' }}>
      {m && (
        <dl className="facts" aria-label="Quality model">
          <dt>Trained</dt>
          <dd>
            {formatDateTime(m.createdAt)} on{' '}
            {m.trainedOn === 'rules'
              ? 'the rules’ decisions'
              : m.trainedOn === 'decisions'
                ? 'your decisions'
                : 'your decisions and the rules’ decisions'}{' '}
            ({formatCount(m.examples)} examples)
          </dd>
          <dt>Held-out accuracy</dt>
          <dd>
            {accuracy(m.holdoutAccuracy)} on {formatCount(m.holdout)} documents
            {m.decisionHoldoutAccuracy !== null &&
              `; ${accuracy(m.decisionHoldoutAccuracy)} on your held-out decisions`}
          </dd>
        </dl>
      )}
      <div className="row">
        <span className="small muted">
          Your decisions: {formatCount(stats.decisions.keep)} keep,{' '}
          {formatCount(stats.decisions.remove)} remove
          {stats.decisionsSinceModel > 0 &&
            ` (${formatCount(stats.decisionsSinceModel)} new since training)`}
        </span>
        <span style={{ flex: 1 }} />
        <Button
          size="small"
          icon={<RefreshCw size={13} />}
          disabled={busy || retrain.isPending || stats.counts.pending === stats.documents}
          onClick={() => retrain.mutate({ datasetId })}
        >
          Retrain now
        </Button>
      </div>
      {retrain.error && <Notice tone="error">{retrain.error.message}</Notice>}
    </div>
  )
}

/** What each import brought in, and every record it could not read, with file and line. */
export function ImportReports({ reports }: { reports: ImportReport[] }) {
  const [open, setOpen] = useState(false)
  const skipped = reports.reduce((n, r) => n + r.skipped, 0)
  const errors = reports.flatMap((r) => r.errors)
  return (
    <section className="stack" style={{ gap: 6 }} aria-label="Imports">
      <p className="small muted">
        {reports.length === 1 ? 'Imported' : `${reports.length} imports brought in`}{' '}
        {formatCount(reports.reduce((n, r) => n + r.imported, 0))} documents from{' '}
        {formatCount(reports.reduce((n, r) => n + r.files, 0))} files
        {skipped > 0 && `; ${formatCount(skipped)} records skipped`}.
        {errors.length > 0 && (
          <>
            {' '}
            <button
              type="button"
              className="link-button"
              aria-expanded={open}
              onClick={() => setOpen(!open)}
            >
              {open ? 'Hide problems' : 'Show problems'}
            </button>
          </>
        )}
      </p>
      {open && <ImportErrors errors={errors} />}
    </section>
  )
}

export function ImportErrors({ errors }: { errors: ImportReport['errors'] }) {
  return (
    <div className="table-scroll">
      <table className="table" aria-label="Import problems">
        <thead>
          <tr>
            <th>File</th>
            <th className="num">Line</th>
            <th>Problem</th>
          </tr>
        </thead>
        <tbody>
          {errors.map((e, i) => (
            <tr key={i}>
              <td className="mono small truncate-cell" title={e.file}>
                {e.file.split(/[\\/]/).slice(-2).join('/')}
              </td>
              <td className="num">{e.line ?? '—'}</td>
              <td>{e.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
