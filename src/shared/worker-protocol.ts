import { z } from 'zod'
import { errorCodes } from './errors'
import { jobKinds, jobProgressSchema } from './jobs'

/**
 * Messages between a supervisor (main or serve process) and a worker process. Both
 * sides validate what they receive: a process boundary is a trust boundary.
 */

export const toWorkerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run'),
    jobId: z.string(),
    kind: z.enum(jobKinds as [string, ...string[]]),
    params: z.unknown(),
    /** The project file the job reads and writes; null for jobs that need none. */
    dbPath: z.string().nullable(),
    /**
     * The tfjs backend the probe found (BackendMonitor), loaded directly instead of trying
     * the ladder again in every worker (a GPU adapter request, native packages' imports).
     * Absent for the probe itself, and before a probe has answered.
     */
    backend: z.string().optional(),
  }),
  z.object({ type: z.literal('cancel'), jobId: z.string() }),
  /** Ask a job that can pause (training) to save its state and end as paused. */
  z.object({ type: z.literal('pause'), jobId: z.string() }),
])
export type ToWorker = z.infer<typeof toWorkerSchema>

const apiErrorSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
  field: z.string().optional(),
})

export const fromWorkerSchema = z.discriminatedUnion('type', [
  /** Sent once the worker is listening; the supervisor then sends `run`. */
  z.object({ type: z.literal('ready'), pid: z.number() }),
  z.object({ type: z.literal('progress'), jobId: z.string(), progress: jobProgressSchema }),
  z.object({
    type: z.literal('log'),
    jobId: z.string(),
    level: z.enum(['info', 'warn', 'error']),
    message: z.string().max(10_000),
  }),
  /** A piece of a job's streamed output (generated text), in order. */
  z.object({
    type: z.literal('output'),
    jobId: z.string(),
    seq: z.int().nonnegative(),
    text: z.string().max(100_000),
    /** The token this piece decodes, when the output is generated tokens. */
    tokenId: z.int().nonnegative().optional(),
  }),
  z.object({ type: z.literal('succeeded'), jobId: z.string(), result: z.unknown() }),
  z.object({ type: z.literal('failed'), jobId: z.string(), error: apiErrorSchema }),
  z.object({ type: z.literal('cancelled'), jobId: z.string() }),
])
export type FromWorker = z.infer<typeof fromWorkerSchema>
