import { useQueryClient } from '@tanstack/react-query'
import { useEvent } from '../../api/client'
import { useActiveJobs } from '../../app/useJobs'
import { jobKindDefinitions, jobHoldsDataset, type JobRecord } from '../../../../shared/jobs'

/** Every query the data screen reads, refreshed when a data job finishes. */
const dataQueries = [
  'datasets.list',
  'data.stats',
  'data.documents',
  'data.document',
  'data.imports',
  'data.rules',
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
