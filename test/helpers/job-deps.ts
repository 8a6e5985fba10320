import type { Store } from '../../src/store'

/** What a data job (import, clean, quality) needs from its runner, doing nothing: for tests. */
export function quietJobDeps(store: Store, threads = 0) {
  return {
    store,
    jobId: 'test',
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
    throwIfCancelled: () => undefined,
    threads,
  }
}
