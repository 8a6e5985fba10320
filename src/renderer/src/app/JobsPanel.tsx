import { useEffect, useRef, useState } from 'react'
import { useApiMutation, useApiQuery } from '../api/client'
import { Button } from '../components/Button'
import { ProgressBar } from '../components/ProgressBar'
import { formatRelative } from '../format'
import {
  isFinished,
  jobKindDefinitions,
  progressFraction,
  type JobRecord,
} from '../../../shared/jobs'

const stateTone: Record<JobRecord['state'], string> = {
  queued: 'default',
  running: 'accent',
  succeeded: 'success',
  failed: 'danger',
  cancelled: 'warning',
}

function JobLog({ id }: { id: string }) {
  const { data, isLoading } = useApiQuery('jobs.logs', { id, limit: 500 })
  if (isLoading) return <p className="muted small">Loading log…</p>
  if (!data?.length) return <p className="muted small">This job wrote nothing to its log.</p>
  return (
    <pre className="log" aria-label="Job log">
      {data.map((l) => `${l.at.slice(11, 19)} ${l.level.padEnd(5)} ${l.message}`).join('\n')}
    </pre>
  )
}

function JobRow({ job }: { job: JobRecord }) {
  const [showLog, setShowLog] = useState(false)
  const cancel = useApiMutation('jobs.cancel')
  const active = !isFinished(job.state)
  const fraction = progressFraction(job.progress)
  return (
    <li className="job-row" aria-label={jobKindDefinitions[job.kind].title}>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <strong>{jobKindDefinitions[job.kind].title}</strong>
        <span className="badge" data-tone={stateTone[job.state]}>
          {job.state}
        </span>
      </div>
      {job.state === 'running' && (
        <>
          <ProgressBar
            fraction={fraction}
            label={`${jobKindDefinitions[job.kind].title} progress`}
          />
          <span className="muted small">
            {job.progress
              ? `${job.progress.message ?? ''} ${Math.round(job.progress.done)}${job.progress.total === null ? '' : ` / ${job.progress.total}`} ${job.progress.unit}`
              : 'Starting…'}
          </span>
        </>
      )}
      {job.error && <span className="error-text">{job.error.message}</span>}
      <div className="row">
        <span className="muted small">{formatRelative(job.createdAt)}</span>
        <span style={{ flex: 1 }} />
        {active && (
          <Button
            size="small"
            variant="danger"
            disabled={cancel.isPending}
            onClick={() => cancel.mutate({ id: job.id })}
          >
            Cancel
          </Button>
        )}
        <Button
          size="small"
          variant="ghost"
          aria-expanded={showLog}
          onClick={() => setShowLog(!showLog)}
        >
          {showLog ? 'Hide log' : 'Log'}
        </Button>
      </div>
      {showLog && <JobLog id={job.id} />}
    </li>
  )
}

/** Recent and running jobs, opened from the status bar. */
export function JobsPanel({ active, onClose }: { active: JobRecord[]; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null)
  const { data: recent } = useApiQuery('jobs.list', { limit: 20 })
  const activeIds = new Set(active.map((j) => j.id))
  const jobs = [...active, ...(recent ?? []).filter((j) => !activeIds.has(j.id))]

  useEffect(() => {
    ref.current?.focus()
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose()
    const onClick = (e: MouseEvent) => {
      const target = e.target as Node
      if (
        !ref.current?.contains(target) &&
        !(target as HTMLElement).closest?.('[data-jobs-toggle]')
      )
        onClose()
    }
    window.addEventListener('keydown', onKey)
    window.addEventListener('mousedown', onClick)
    return () => {
      window.removeEventListener('keydown', onKey)
      window.removeEventListener('mousedown', onClick)
    }
  }, [onClose])

  return (
    <div className="jobs-panel" role="dialog" aria-label="Jobs" ref={ref} tabIndex={-1}>
      <div className="panel-header">
        <h2>Jobs</h2>
        <Button size="small" variant="ghost" onClick={onClose}>
          Close
        </Button>
      </div>
      {jobs.length === 0 ? (
        <p className="muted small" style={{ padding: 16 }}>
          No jobs yet. Imports, cleaning, training and evaluation run here, in separate worker
          processes.
        </p>
      ) : (
        <ul style={{ listStyle: 'none', margin: 0, padding: 0 }}>
          {jobs.map((job) => (
            <JobRow key={job.id} job={job} />
          ))}
        </ul>
      )}
    </div>
  )
}
