import { X } from 'lucide-react'
import { useApiMutation } from '../api/client'
import { Button } from './Button'
import { ProgressBar } from './ProgressBar'
import { formatBytes, formatCount } from '../format'
import { jobKindDefinitions, progressFraction, type JobRecord } from '../../../shared/jobs'

/** A running job: what it is doing, how far it got, and a way to stop it. */
export function JobCard({ job }: { job: JobRecord }) {
  const cancel = useApiMutation('jobs.cancel')
  const p = job.progress
  const title =
    job.kind === 'data.import'
      ? `Importing into “${(job.params as { dataset: string }).dataset}”`
      : jobKindDefinitions[job.kind].title
  // A step of unknown length that has counted nothing yet says only what it is doing.
  const amount =
    !p || (p.total === null && p.done === 0)
      ? null
      : p.unit === 'bytes'
        ? `${formatBytes(p.done)}${p.total ? ` of ${formatBytes(p.total)}` : ''}`
        : `${formatCount(Math.round(p.done))}${p.total ? ` of ${formatCount(p.total)}` : ''} ${p.unit}`
  const doing = !p
    ? job.state === 'queued'
      ? 'Waiting for a free worker…'
      : 'Starting…'
    : amount === null
      ? `${p.message ?? 'Working'}…`
      : `${p.message ? `${p.message}: ` : ''}${amount}`
  const docs = p?.metrics?.documents
  return (
    <div className="job-card" role="status" aria-label={title}>
      <div className="row" style={{ justifyContent: 'space-between', flexWrap: 'nowrap' }}>
        <strong className="small">{title}</strong>
        <Button
          size="small"
          variant="danger"
          icon={<X size={13} />}
          disabled={cancel.isPending}
          onClick={() => cancel.mutate({ id: job.id })}
        >
          Cancel
        </Button>
      </div>
      <ProgressBar fraction={progressFraction(p)} label={`${title} progress`} />
      <span className="small muted">
        {doing}
        {docs !== undefined && p?.unit !== 'documents' ? ` · ${formatCount(docs)} documents` : ''}
        {p?.metrics?.skipped ? ` · ${formatCount(p.metrics.skipped)} skipped` : ''}
      </span>
    </div>
  )
}
