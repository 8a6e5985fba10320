import type { JobHandler } from '../context'
import { runClean } from '../data/pipeline/clean'

/** `data.clean`: rules, dedup and quality model over a dataset (see data/pipeline/clean.ts). */
export const dataClean: JobHandler<'data.clean'> = (params, ctx) => {
  const store = ctx.store()
  const rules = params.rules ?? store.ruleSets.forDataset(params.datasetId).rules
  return runClean(params.datasetId, rules, {
    store,
    jobId: ctx.jobId,
    signal: ctx.signal,
    progress: (p) => ctx.progress(p),
    log: (level, message) => ctx.log(level, message),
    throwIfCancelled: () => ctx.throwIfCancelled(),
    ...threadsFromEnv(),
  })
}

/** FRUGAL_DATA_THREADS overrides the thread count (0: no threads), for tests and benchmarks. */
export function threadsFromEnv(): { threads?: number } {
  const raw = process.env.FRUGAL_DATA_THREADS
  return raw !== undefined && /^\d+$/.test(raw) ? { threads: Number(raw) } : {}
}
