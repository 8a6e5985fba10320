import { RefreshCw } from 'lucide-react'
import { useActiveJobs } from '../../app/useJobs'
import { Button } from '../../components/Button'
import { ProgressBar } from '../../components/ProgressBar'
import { formatCount } from '../../format'
import type { QueueCounts, ReviewOverview } from '../../../../shared/review'

const percent = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`

/**
 * How the review goes: this queue's progress, decisions so far and their rate, how often
 * the reviewer agrees with the pipeline, and the quality model's held-out accuracy before
 * and after it learned from the decisions.
 */
export function ProgressStrip({
  datasetId,
  overview,
  counts,
  onRetrain,
}: {
  datasetId: number
  overview: ReviewOverview
  counts: QueueCounts | null
  onRetrain: () => void
}) {
  // Retraining this dataset's model, whoever started it (here, a label, the Data screen).
  const busy = useActiveJobs().some(
    (job) =>
      job.kind === 'data.quality' && (job.params as { datasetId: number }).datasetId === datasetId,
  )
  const { progress, model } = overview
  const agreement = progress.agreement.compared
    ? progress.agreement.agreed / progress.agreement.compared
    : null
  const done = counts && counts.total > 0 ? (counts.total - counts.remaining) / counts.total : 0
  return (
    <section className="review-progress" aria-label="Review progress">
      <div className="review-progress-queue">
        <span className="small">
          {counts
            ? `${formatCount(counts.total - counts.remaining)} of ${formatCount(counts.total)} decided in this queue · ${formatCount(counts.remaining)} remaining`
            : 'Counting…'}
        </span>
        <ProgressBar fraction={done} label="Queue progress" />
      </div>
      <dl className="review-stats small">
        <div>
          <dt>Reviewed</dt>
          <dd>
            {formatCount(progress.reviewed)}{' '}
            <span className="muted">
              ({formatCount(progress.keep)} kept, {formatCount(progress.remove)} removed)
            </span>
          </dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd>
            {progress.ratePerHour === null ? '—' : `${formatCount(progress.ratePerHour)} / hour`}
          </dd>
        </div>
        <div title="Among documents the pipeline kept or removed on its own, the share where you decided the same">
          <dt>Agreement</dt>
          <dd>
            {percent(agreement)}{' '}
            <span className="muted">of {formatCount(progress.agreement.compared)}</span>
          </dd>
        </div>
        <div title="Held-out accuracy of the quality model: the one before the latest retraining, and now">
          <dt>Model accuracy</dt>
          <dd>
            {model.previous ? `${percent(model.previous.holdoutAccuracy)} → ` : ''}
            {percent(model.current?.holdoutAccuracy)}
            {typeof model.current?.decisionHoldoutAccuracy === 'number' && (
              <span className="muted">
                {' '}
                ({percent(model.current.decisionHoldoutAccuracy)} on your decisions)
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>Since training</dt>
          <dd>
            {formatCount(overview.decisionsSinceModel)}
            {overview.retrainEvery > 0 ? ` of ${overview.retrainEvery}` : ''} decisions
          </dd>
        </div>
      </dl>
      <Button
        size="small"
        icon={<RefreshCw size={13} className={busy ? 'spin' : undefined} />}
        disabled={busy}
        onClick={onRetrain}
      >
        {busy ? 'Retraining…' : 'Retrain model'}
      </Button>
    </section>
  )
}
