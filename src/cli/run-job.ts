import { UserError } from '../shared/errors'
import { jobParams, type JobKind, type JobParamsIn, type JobResults } from '../shared/jobs'
import { CancelledError, createJobContext } from '../worker/context'
import { jobHandlers } from '../worker/jobs'
import type { Output } from './output'

/**
 * Run a batch job in this process with the very code a worker runs, printing progress
 * to stderr. Ctrl+C cancels it cleanly (a second Ctrl+C exits at once).
 */
export async function runJobInProcess<K extends JobKind>(
  kind: K,
  rawParams: JobParamsIn<K>,
  dbPath: string | null,
  out: Output,
): Promise<JobResults[K]> {
  const parsed = jobParams[kind].safeParse(rawParams)
  if (!parsed.success)
    throw new UserError('invalid_params', parsed.error.issues[0]?.message ?? 'Invalid parameters')
  const controller = new AbortController()
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130)
    out.note('Cancelling… (Ctrl+C again to quit now)')
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  let lastLine = 0
  const ctx = createJobContext({
    jobId: `cli-${process.pid}`,
    dbPath,
    signal: controller.signal,
    report: (message) => {
      if (message.type === 'log') out.note(`[${message.level}] ${message.message}`)
      if (message.type === 'progress' && Date.now() - lastLine > 500) {
        lastLine = Date.now()
        const p = message.progress
        const total = p.total === null ? '' : ` / ${p.total}`
        out.note(`${p.message ?? kind}: ${p.done}${total} ${p.unit}`)
      }
    },
  })
  try {
    const handler = jobHandlers[kind] as unknown as (
      p: unknown,
      c: typeof ctx,
    ) => Promise<JobResults[K]>
    return await handler(parsed.data, ctx)
  } catch (err) {
    if (err instanceof CancelledError) throw new UserError('cancelled', 'Cancelled.')
    throw err
  } finally {
    process.off('SIGINT', onSigint)
    ctx.close()
  }
}
