import { existsSync } from 'node:fs'
import { UserError } from '../../shared/errors'
import type { JobHandler } from '../context'
import { writeJsonl } from '../data/export'

/** `review.export`: every reviewed document of a dataset, one JSON object per line. */
export const reviewExport: JobHandler<'review.export'> = async (params, ctx) => {
  const store = ctx.store()
  if (!store.datasets.get(params.datasetId))
    throw new UserError(
      'not_found',
      `There is no dataset with id ${params.datasetId}.`,
      'datasetId',
    )
  if (!params.overwrite && existsSync(params.out))
    throw new UserError('conflict', `${params.out} already exists.`, 'out')
  const documents = await writeJsonl(
    params.out,
    store.review.exportRows(params.datasetId),
    (n) => ctx.progress({ done: n, total: null, unit: 'documents', message: 'Exporting' }),
    () => ctx.throwIfCancelled(),
  )
  return { datasetId: params.datasetId, path: params.out, documents }
}

/** `ratings.export`: ratings, preferences, or preference pairs for training. */
export const ratingsExport: JobHandler<'ratings.export'> = async (params, ctx) => {
  const store = ctx.store()
  if (!params.overwrite && existsSync(params.out))
    throw new UserError('conflict', `${params.out} already exists.`, 'out')
  const records =
    params.kind === 'ratings'
      ? store.ratings.allRatings()
      : params.kind === 'pairs'
        ? store.ratings.preferencePairs()
        : store.ratings.allPreferences()
  const n = await writeJsonl(
    params.out,
    records,
    (done) => ctx.progress({ done, total: null, unit: 'records', message: 'Exporting' }),
    () => ctx.throwIfCancelled(),
  )
  return { path: params.out, records: n }
}
