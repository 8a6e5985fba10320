/**
 * Worker process entry. Started by the supervisor (utilityProcess in Electron,
 * child_process.fork otherwise) to run one job, then told to exit.
 *
 *   parent -> { type: 'run', jobId, kind, params, dbPath }   start the job
 *   parent -> { type: 'cancel', jobId }                      abort it
 *   worker -> ready | progress | log | succeeded | failed | cancelled
 */
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UserError, describeError } from '../shared/errors'
import { jobParams, type JobKind } from '../shared/jobs'
import { toWorkerSchema, type FromWorker } from '../shared/worker-protocol'
import { CancelledError, createJobContext } from './context'
import { jobHandlers } from './jobs'
import { setDataThreadsDir } from './data/thread-entry'
import { connectToParent } from './parent-port'
import { threadEntries } from './threads'

const port = connectToParent()
// Built, the data jobs' threads are sibling entries of this file (out/main/data-thread.js…).
if (import.meta.url.endsWith('.js')) setDataThreadsDir(dirname(fileURLToPath(import.meta.url)))
const threads = threadEntries(import.meta.url)
const controllers = new Map<string, AbortController>()
const pauses = new Map<string, { requested: boolean }>()
const closers: (() => void)[] = []

function send(message: FromWorker): void {
  port.send(message)
}

async function run(
  jobId: string,
  kind: JobKind,
  rawParams: unknown,
  dbPath: string | null,
  backend: string | undefined,
): Promise<void> {
  const controller = new AbortController()
  controllers.set(jobId, controller)
  const pause = { requested: false }
  pauses.set(jobId, pause)
  const ctx = createJobContext({
    jobId,
    dbPath,
    backend,
    signal: controller.signal,
    nativeBinding: process.env.FRUGAL_SQLITE_BINDING,
    report: send,
    threads,
    pause,
  })
  closers.push(() => ctx.close())
  try {
    const params = jobParams[kind].safeParse(rawParams)
    if (!params.success) {
      throw new UserError(
        'invalid_params',
        `Invalid job parameters: ${params.error.issues[0]?.message ?? 'unknown'}`,
      )
    }
    const handler = jobHandlers[kind] as (p: unknown, c: typeof ctx) => Promise<unknown>
    const result = await handler(params.data, ctx)
    send({ type: 'succeeded', jobId, result })
  } catch (err) {
    if (err instanceof CancelledError || controller.signal.aborted)
      send({ type: 'cancelled', jobId })
    else if (err instanceof UserError) send({ type: 'failed', jobId, error: err.toApiError() })
    else {
      console.error(err)
      send({ type: 'failed', jobId, error: { code: 'internal', message: describeError(err) } })
    }
  } finally {
    ctx.close()
    controllers.delete(jobId)
    pauses.delete(jobId)
  }
}

port.onMessage((raw) => {
  const parsed = toWorkerSchema.safeParse(raw)
  if (!parsed.success) {
    console.error('worker: ignored malformed message', parsed.error.message)
    return
  }
  const message = parsed.data
  if (message.type === 'run')
    void run(
      message.jobId,
      message.kind as JobKind,
      message.params,
      message.dbPath,
      message.backend,
    )
  else if (message.type === 'pause') {
    const p = pauses.get(message.jobId)
    if (p) p.requested = true
  } else controllers.get(message.jobId)?.abort()
})

// The supervisor ends a worker with SIGTERM once its job is done: close the project
// cleanly (WAL checkpoint) and leave.
process.on('SIGTERM', () => {
  for (const close of closers) close()
  process.exit(0)
})
// Without a parent there is nobody to report to.
process.on('disconnect', () => process.exit(0))

send({ type: 'ready', pid: process.pid })
