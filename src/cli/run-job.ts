import { randomUUID } from 'node:crypto'
import { Store } from '../store'
import { UserError, describeError, type ApiError } from '../shared/errors'
import {
  jobKindDefinitions,
  jobParams,
  type JobKind,
  type JobParamsIn,
  type JobParamsOut,
  type StartJob,
  type JobRecord,
  type JobResults,
} from '../shared/jobs'
import { CancelledError, createJobContext } from '../worker/context'
import { jobHandlers } from '../worker/jobs'
import { checkJob } from '../main/jobs/preconditions'
import { isProcessAlive } from '../store/process-alive'
import type { ThreadEntries } from '../worker/threads'
import type { JobProgress } from '../shared/jobs'
import type { Output } from './output'

let threads: ThreadEntries | null = null

/** Set once by the CLI entry module, which knows where the thread entries are. */
export function setCliThreadEntries(entries: ThreadEntries): void {
  threads = entries
}

export interface InProcessOptions {
  /** Every progress report (the default prints a throttled line to stderr). */
  onProgress?: (progress: JobProgress) => void
  /** Each piece of streamed output (generated text, and the token it decodes). */
  onOutput?: (text: string, tokenId?: number) => void
}

/**
 * Where a CLI job is recorded: its row and log in the project, as the app records its
 * workers' jobs, so the app shows the same history (and a killed CLI job as an orphan).
 */
class JobJournal {
  private record: JobRecord
  private lastProgressWrite = 0

  constructor(
    private readonly store: Store,
    kind: JobKind,
    params: unknown,
  ) {
    const now = new Date().toISOString()
    this.record = {
      id: randomUUID(),
      kind,
      params,
      state: 'running',
      progress: null,
      result: null,
      error: null,
      createdAt: now,
      startedAt: now,
      finishedAt: null,
    }
    store.jobs.insert(this.record, process.pid)
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.store.jobs.appendLog(this.record.id, { at: new Date().toISOString(), level, message })
  }

  progress(p: JobRecord['progress']): void {
    this.record = { ...this.record, progress: p }
    if (Date.now() - this.lastProgressWrite > 1000) {
      this.lastProgressWrite = Date.now()
      this.store.jobs.update(this.record)
    }
  }

  finish(
    state: 'succeeded' | 'failed' | 'cancelled',
    outcome: { result?: unknown; error?: ApiError },
  ): void {
    this.record = {
      ...this.record,
      state,
      finishedAt: new Date().toISOString(),
      result: outcome.result ?? null,
      error: outcome.error ?? null,
    }
    this.store.jobs.update(this.record)
    this.store.close()
  }
}

/**
 * The kind's preconditions (main/jobs/preconditions.ts), as the app checks them, against
 * the jobs the project records as queued or running (the app's and other CLI processes';
 * those of processes that died are marked failed first): the request as it starts.
 */
export function checkInProject<R extends StartJob>(request: R, store: Store | null): R {
  if (store) store.jobs.failOrphans(isProcessAlive, new Date().toISOString())
  const active = store?.jobs.list({ states: ['queued', 'running'], limit: 1000 }) ?? []
  return checkJob(request, { store, active })
}

/**
 * Run a batch job in this process with the very code a worker runs, printing progress
 * to stderr and recording it in the project. Ctrl+C cancels it cleanly (a second Ctrl+C
 * exits at once).
 */
export async function runJobInProcess<K extends JobKind>(
  kind: K,
  rawParams: JobParamsIn<K>,
  dbPath: string | null,
  out: Output,
  options: InProcessOptions = {},
): Promise<JobResults[K]> {
  if (!threads) throw new Error('setCliThreadEntries was not called')
  const parsed = jobParams[kind].safeParse(rawParams)
  if (!parsed.success)
    throw new UserError('invalid_params', parsed.error.issues[0]?.message ?? 'Invalid parameters')
  const store = dbPath && jobKindDefinitions[kind].needsProject ? Store.open(dbPath) : null
  let params: JobParamsOut<K>
  try {
    params = checkInProject({ kind, params: parsed.data } as StartJob, store)
      .params as JobParamsOut<K>
  } catch (err) {
    store?.close()
    throw err
  }
  const controller = new AbortController()
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130)
    out.note('Cancelling… (Ctrl+C again to quit now)')
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  const journal = store ? new JobJournal(store, kind, params) : null
  let lastLine = 0
  const ctx = createJobContext({
    jobId: `cli-${process.pid}`,
    dbPath,
    signal: controller.signal,
    report: (message) => {
      if (message.type === 'output') options.onOutput?.(message.text, message.tokenId)
      if (message.type === 'log') journal?.log(message.level, message.message)
      if (message.type === 'progress') journal?.progress(message.progress)
      if (message.type === 'log') out.note(`[${message.level}] ${message.message}`)
      if (message.type === 'progress' && options.onProgress) options.onProgress(message.progress)
      else if (message.type === 'progress' && Date.now() - lastLine > 500) {
        lastLine = Date.now()
        const p = message.progress
        const total = p.total === null ? '' : ` / ${p.total}`
        // Nothing counted yet and no total ("Reading the model folder"): just the message.
        const count = p.done === 0 && p.total === null ? '' : `: ${p.done}${total} ${p.unit}`
        out.note(`${p.message ?? kind}${count}`)
      }
    },
    threads,
    progressIntervalMs: 0,
  })
  try {
    const handler = jobHandlers[kind] as unknown as (
      p: unknown,
      c: typeof ctx,
    ) => Promise<JobResults[K]>
    const result = await handler(params, ctx)
    journal?.finish('succeeded', { result })
    return result
  } catch (err) {
    if (err instanceof CancelledError || controller.signal.aborted) {
      journal?.finish('cancelled', {})
      throw new UserError('cancelled', 'Cancelled.')
    }
    journal?.finish('failed', {
      error:
        err instanceof UserError
          ? err.toApiError()
          : { code: 'internal', message: describeError(err) },
    })
    throw err
  } finally {
    process.off('SIGINT', onSigint)
    ctx.close()
  }
}
