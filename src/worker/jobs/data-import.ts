import { resolve } from 'node:path'
import type { JobHandler } from '../context'
import { runImport } from '../data/import/importer'

/** `data.import`: stream files and folders into a dataset (see data/import/importer.ts). */
export const dataImport: JobHandler<'data.import'> = (params, ctx) =>
  runImport(
    { ...params, paths: params.paths.map((p) => resolve(p)) },
    {
      store: ctx.store(),
      jobId: ctx.jobId,
      signal: ctx.signal,
      progress: (p) => ctx.progress(p),
      throwIfCancelled: () => ctx.throwIfCancelled(),
    },
  )
