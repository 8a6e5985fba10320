import { existsSync } from 'node:fs'
import { UserError } from '../../shared/errors'
import type { JobHandler } from '../context'
import { exportJsonl } from '../data/export'

/** `data.export`: a dataset as JSON Lines (see data/export.ts). */
export const dataExport: JobHandler<'data.export'> = async (params, ctx) => {
  const store = ctx.store()
  const dataset = store.datasets.get(params.datasetId)
  if (!dataset)
    throw new UserError(
      'not_found',
      `There is no dataset with id ${params.datasetId}.`,
      'datasetId',
    )
  if (!params.overwrite && existsSync(params.out))
    throw new UserError('conflict', `${params.out} already exists.`, 'out')
  const total = store.dataStats.countStatus(params.datasetId, params.status)
  const result = await exportJsonl(
    store,
    params.datasetId,
    params.status,
    params.out,
    (documents) =>
      ctx.progress({ done: documents, total, unit: 'documents', message: 'Exporting' }),
    () => ctx.throwIfCancelled(),
  )
  return { datasetId: params.datasetId, ...result }
}
