import { useActiveJobs } from '../../app/useJobs'
import { jobHoldsDataset, type JobRecord } from '../../../../shared/jobs'

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
