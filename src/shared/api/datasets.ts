import { method } from './define'
import { noParams } from './common'
import type { DataDatasetSummary } from '../data/types'

/** Datasets in the open project (import and cleaning are data.*'s). */
export const datasetsApi = {
  /** Datasets ready for use, newest first, with document counts by status. */
  'datasets.list': method<DataDatasetSummary[]>()(noParams),
}
