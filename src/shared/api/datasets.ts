import { method } from './define'
import { noParams } from './common'
import type { DatasetSummary } from '../types'

/** Datasets in the open project. Import and cleaning add their methods here. */
export const datasetsApi = {
  'datasets.list': method<DatasetSummary[]>()(noParams),
}
