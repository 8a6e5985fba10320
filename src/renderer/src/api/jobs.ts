import { useCallback, useEffect, useRef, useState } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import type { MethodName } from '../../../shared/api'
import {
  isFinished,
  jobKindDefinitions,
  type JobKind,
  type JobProgress,
  type JobRecord,
} from '../../../shared/jobs'
import { call, useEvent, useTransport } from './client'

/** Queries about a dataset's documents, which every job holding a dataset may change. */
const datasetQueries: MethodName[] = [
  'datasets.list',
  'data.stats',
  'data.documents',
  'data.document',
  'data.imports',
  'data.rules',
]

interface Staleness {
  /** Stale at every change of the job's state (its start as much as its end). */
  change?: MethodName[]
  /** Stale when the job ends, however it ends. */
  end?: MethodName[]
}

/**
 * Which queries a job makes stale, by kind: the one place that says it. Every job's state
 * changes jobs.list; every end, project.current (the file's size and state); a job that
 * holds a dataset, that dataset's queries. Queries refetch rather than take an event's
 * payload: a fetch that left before the change but answers after it would otherwise
 * overwrite the new state with the old one (queries never go stale on their own), and
 * invalidating cancels such a fetch.
 */
const staleness: Partial<Record<JobKind, Staleness>> = {
  // The quality model's accuracy and the review queues' order change with it.
  'data.quality': { end: ['review.overview', 'review.counts', 'review.members'] },
  // A run's status, step, metrics, expert load, log and checkpoints change as its job
  // starts and ends; the run page stops polling then, so what the last poll missed (the
  // log's closing lines, of a short run all but the first) comes from this refetch.
  'train.run': {
    change: ['runs.list', 'runs.get', 'runs.metrics', 'runs.expertLoad', 'runs.logs'],
  },
  // An import adds a run and a tokenizer.
  'model.import': { change: ['runs.list', 'runs.get'], end: ['tokenizers.list'] },
  'tokenizer.train': { end: ['tokenizers.list'] },
  'eval.perplexity': { end: ['models.evals'] },
  'eval.mc': { end: ['models.evals'] },
}

/** The queries a job's new state makes stale (`staleness` applied to it). */
export function staleQueries(job: Pick<JobRecord, 'kind' | 'state'>): MethodName[] {
  const own = staleness[job.kind] ?? {}
  const ended = isFinished(job.state)
  return [
    ...new Set<MethodName>([
      'jobs.list',
      ...(own.change ?? []),
      ...(ended
        ? [
            'project.current' as const,
            ...(own.end ?? []),
            ...(jobKindDefinitions[job.kind].holdsDataset ? datasetQueries : []),
          ]
        : []),
    ]),
  ]
}

/** Keep cached queries in step with the jobs the backend announces (once, in App). */
export function useJobInvalidation(): void {
  const client = useQueryClient()
  useEvent('job.state', (job) => {
    for (const key of staleQueries(job)) void client.invalidateQueries({ queryKey: [key] })
  })
}

interface JobHandlers {
  /** Once, when the job stops, however it stops. */
  onEnd: (job: JobRecord) => void
  /** At each progress report while it runs. */
  onProgress?: (progress: JobProgress) => void
}

/**
 * Follow one job by id (one this component started): its live progress while it runs, and
 * `onEnd` once when it stops. A job may end before the render that hands its id to this
 * hook (a small job, a fast machine): its end event then found no one listening, so the
 * job is also asked for once when the id arrives. `id` null: nothing followed.
 */
export function useJob(
  id: string | null,
  { onEnd, onProgress }: JobHandlers,
): { progress: JobProgress | null } {
  const transport = useTransport()
  const [progress, setProgress] = useState<{ id: string; progress: JobProgress } | null>(null)
  const handlers = useRef({ onEnd, onProgress })
  useEffect(() => {
    handlers.current = { onEnd, onProgress }
  })
  const endedId = useRef<string | null>(null)
  const end = useCallback((job: JobRecord) => {
    if (endedId.current === job.id) return
    endedId.current = job.id
    handlers.current.onEnd(job)
  }, [])
  useEvent('job.progress', (e) => {
    if (e.id !== id) return
    setProgress({ id: e.id, progress: e.progress })
    handlers.current.onProgress?.(e.progress)
  })
  useEvent('job.state', (job) => {
    if (job.id === id && isFinished(job.state)) end(job)
  })
  useEffect(() => {
    if (id === null) return
    let current = true
    call(transport, 'jobs.get', { id }).then(
      (job) => current && isFinished(job.state) && end(job),
      () => undefined, // its events still come; a failed look changes nothing
    )
    return () => {
      current = false
    }
  }, [id, transport, end])
  return { progress: progress && progress.id === id ? progress.progress : null }
}
