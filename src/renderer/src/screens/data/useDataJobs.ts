import { useQueryClient } from '@tanstack/react-query'
import { useApiQuery, useEvent } from '../../api/client'
import { useActiveJobs } from '../../app/useJobs'
import {
  jobKindDefinitions,
  jobHoldsDataset,
  type JobKind,
  type JobRecord,
} from '../../../../shared/jobs'

/** Every query the data screen reads, refreshed when a data job finishes. */
const dataQueries = [
  'data.datasets',
  'data.stats',
  'data.documents',
  'data.document',
  'data.imports',
  'data.rules',
  'datasets.list',
  'project.current',
]

/** Refetch the data screen's queries when a data job ends, whoever started it. */
export function useDataInvalidation(): void {
  const client = useQueryClient()
  useEvent('job.state', (job) => {
    if (!jobKindDefinitions[job.kind].holdsDataset) return
    if (job.state === 'queued' || job.state === 'running') return
    for (const key of dataQueries) void client.invalidateQueries({ queryKey: [key] })
  })
}

/** Data jobs queued or running for a dataset (by id, or by name for an import into it). */
export function useDatasetJobs(datasetId: number | null, name: string | null): JobRecord[] {
  const active = useActiveJobs()
  return active.filter((j) => jobHoldsDataset(j, datasetId, name))
}

/** Imports into datasets that do not exist yet (their dataset is hidden until done). */
export function usePendingImports(known: readonly string[]): JobRecord[] {
  return useActiveJobs().filter(
    (j) => j.kind === 'data.import' && !known.includes((j.params as { dataset: string }).dataset),
  )
}

/** The last finished job of a kind for a dataset, for showing its outcome. */
export function useLastJob(kind: JobKind, datasetId: number | null): JobRecord | undefined {
  const { data } = useApiQuery('jobs.list', { limit: 50 })
  return data?.find(
    (j) =>
      j.kind === kind &&
      (j.params as { datasetId?: number }).datasetId === datasetId &&
      j.state !== 'queued' &&
      j.state !== 'running',
  )
}
