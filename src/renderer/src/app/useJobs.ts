import { useState } from 'react'
import { useApiQuery, useEvent } from '../api/client'
import type { JobProgress, JobRecord } from '../../../shared/jobs'

/**
 * While jobs are listed as active, ask again this often: their end arrives as an event,
 * but a missed event (an event channel that stalled, seen on a loaded CI machine) must
 * not leave a finished job shown as running.
 */
const ACTIVE_JOBS_POLL_MS = 3000

/** Jobs queued or running, with progress kept live from `job.progress` events. */
export function useActiveJobs(): JobRecord[] {
  const { data } = useApiQuery(
    'jobs.list',
    { states: ['queued', 'running'], limit: 20 },
    { refetchInterval: (query) => (query.state.data?.length ? ACTIVE_JOBS_POLL_MS : false) },
  )
  const [live, setLive] = useState<Record<string, JobProgress>>({})
  useEvent('job.progress', ({ id, progress }) => setLive((prev) => ({ ...prev, [id]: progress })))
  return (data ?? []).map((job) => (live[job.id] ? { ...job, progress: live[job.id] } : job))
}
