import type { JobKind } from '../../shared/jobs'
import type { JobHandler } from '../context'
import { backendBenchmark } from './backend-benchmark'
import { backendProbe } from './backend-probe'
import { datasetCount } from './dataset-count'
import { integrityCheck } from './integrity-check'

/** Every job kind's implementation; the compiler checks none is missing. */
export const jobHandlers: { [K in JobKind]: JobHandler<K> } = {
  'backend.probe': backendProbe,
  'backend.benchmark': backendBenchmark,
  'dataset.count': datasetCount,
  'project.integrityCheck': integrityCheck,
}
