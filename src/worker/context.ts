import { Store } from '../store'
import { UserError } from '../shared/errors'
import type { JobKind, JobParamsOut, JobProgress, JobResults } from '../shared/jobs'
import type { JobLogLine } from '../shared/jobs'
import type { FromWorker } from '../shared/worker-protocol'
import { loadBackend, type LoadedBackend } from './backend'
import type { ThreadEntries } from './threads'

/** What a running job may use. Everything it reports goes to the supervisor. */
export interface JobContext {
  readonly jobId: string
  /** Aborted when the user cancels; long loops call `throwIfCancelled()`. */
  readonly signal: AbortSignal
  progress(progress: JobProgress): void
  log(level: JobLogLine['level'], message: string): void
  /** Stream a piece of output (generated text, and the token it decodes) to whoever watches the job. */
  output(text: string, tokenId?: number): void
  /** The project, opened on first use in this process. */
  store(): Store
  /** tfjs with the best available backend, loaded on first use. */
  backend(): Promise<LoadedBackend>
  throwIfCancelled(): void
  /** The project file (for threads that open their own connection), or null. */
  readonly dbPath: string | null
  /** better-sqlite3 binary for this runtime, for those threads (Electron). */
  readonly nativeBinding: string | undefined
  /** Where this process's worker-thread entry points are. */
  readonly threads: ThreadEntries
  /** Whether the user asked this job to pause. */
  pauseRequested(): boolean
  /**
   * Least time between live progress reports of jobs that could report very often
   * (training steps): the app's event stream needs a few per second, the CLI every one.
   */
  readonly progressIntervalMs: number
}

/** A job's implementation; quick ones may return their result directly. */
export type JobHandler<K extends JobKind> = (
  params: JobParamsOut<K>,
  ctx: JobContext,
) => JobResults[K] | Promise<JobResults[K]>

export class CancelledError extends Error {
  constructor() {
    super('Cancelled')
    this.name = 'CancelledError'
  }
}

export interface ContextDeps {
  jobId: string
  dbPath: string | null
  /** The backend the app's probe chose (else FRUGAL_BACKEND, else the ladder). */
  backend?: string | undefined
  signal: AbortSignal
  /** Posts a protocol message to the supervisor. */
  report: (message: FromWorker) => void
  nativeBinding?: string | undefined
  threads: ThreadEntries
  /** Set when a pause is requested. */
  pause?: { requested: boolean }
  progressIntervalMs?: number
}

export function createJobContext(deps: ContextDeps): JobContext & { close(): void } {
  let store: Store | null = null
  let seq = 0
  return {
    jobId: deps.jobId,
    signal: deps.signal,
    progress: (progress) => deps.report({ type: 'progress', jobId: deps.jobId, progress }),
    log: (level, message) => deps.report({ type: 'log', jobId: deps.jobId, level, message }),
    output: (text, tokenId) =>
      deps.report({ type: 'output', jobId: deps.jobId, seq: seq++, text, tokenId }),
    store() {
      if (!deps.dbPath) throw new UserError('no_project', 'This job needs an open project.')
      store ??= Store.open(
        deps.dbPath,
        deps.nativeBinding ? { nativeBinding: deps.nativeBinding } : {},
      )
      return store
    },
    backend: () => loadBackend(deps.backend ?? process.env.FRUGAL_BACKEND),
    dbPath: deps.dbPath,
    nativeBinding: deps.nativeBinding,
    threads: deps.threads,
    pauseRequested: () => deps.pause?.requested ?? false,
    progressIntervalMs: deps.progressIntervalMs ?? 250,
    throwIfCancelled() {
      if (deps.signal.aborted) throw new CancelledError()
    },
    close() {
      store?.close()
      store = null
    },
  }
}
