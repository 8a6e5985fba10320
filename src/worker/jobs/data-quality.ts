import type { JobHandler } from '../context'
import { runQualityRetrain } from '../data/pipeline/rescore'
import { threadsFromEnv } from './data-clean'

/** `data.quality`: retrain the quality model on the labels and rescore (data/pipeline/rescore.ts). */
export const dataQuality: JobHandler<'data.quality'> = (params, ctx) =>
  runQualityRetrain(params.datasetId, {
    store: ctx.store(),
    jobId: ctx.jobId,
    signal: ctx.signal,
    progress: (p) => ctx.progress(p),
    log: (level, message) => ctx.log(level, message),
    throwIfCancelled: () => ctx.throwIfCancelled(),
    ...threadsFromEnv(),
  })
