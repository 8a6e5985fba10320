import type { JobHandler } from '../context'
import { deleteDataset } from '../data/delete-dataset'

/** `data.delete`: a dataset marked for deletion, in chunks (see data/delete-dataset.ts). */
export const dataDelete: JobHandler<'data.delete'> = (params, ctx) =>
  deleteDataset(ctx.store(), params.datasetId, {
    progress: (p) => ctx.progress(p),
    throwIfCancelled: () => ctx.throwIfCancelled(),
  })
