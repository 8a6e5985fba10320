import type { Store } from '../../store'
import { UserError } from '../../shared/errors'
import type { JobProgress } from '../../shared/jobs'

/**
 * Documents deleted per transaction. Each document leaves its table, three indexes and
 * the full-text index (about 30 µs in all): a chunk commits in well under a second, so
 * progress moves and the app's own writes (a label, a saved rule set) wait no longer.
 */
const CHUNK_DOCS = 2_000

export interface DeleteDatasetDeps {
  progress: (p: JobProgress) => void
  throwIfCancelled: () => void
}

/**
 * Delete a dataset marked for deletion (DatasetsRepo.markForDeletion), its documents a
 * chunk at a time, then the dataset itself (its decisions, labels, token sets and the mark go with
 * it; runs trained on it keep their checkpoints and remember its id). Stopped part way
 * (cancelled, or the process died) it leaves the dataset marked, still listed nowhere;
 * running it again finishes the job.
 */
export async function deleteDataset(
  store: Store,
  datasetId: number,
  deps: DeleteDatasetDeps,
): Promise<{ datasetId: number; name: string; documents: number }> {
  // Only ever a few: the list serves the lookup too.
  const pending = store.datasets.pendingDeletions().find((d) => d.datasetId === datasetId)
  if (!pending)
    throw new UserError(
      'not_found',
      `Dataset ${datasetId} is not waiting to be deleted.`,
      'datasetId',
    )
  const total = store.documents.count(datasetId)
  const message = `Deleting "${pending.name}"`
  let done = 0
  deps.progress({ done, total, unit: 'documents', message })
  for (;;) {
    deps.throwIfCancelled()
    const deleted = store.datasets.deleteDocuments(datasetId, CHUNK_DOCS)
    done += deleted
    deps.progress({ done, total, unit: 'documents', message })
    if (deleted < CHUNK_DOCS) break
    // Let a cancel request in between chunks.
    await new Promise((resolve) => setImmediate(resolve))
  }
  store.datasets.deleteRow(datasetId)
  return { datasetId, name: pending.name, documents: done }
}
