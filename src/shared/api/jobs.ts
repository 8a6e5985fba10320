import { z } from 'zod'
import { method } from './define'
import { jobStates, startJobSchema, type JobLogLine, type JobRecord } from '../jobs'

/** Background work in worker processes: start, list, cancel, logs. */
export const jobsApi = {
  'jobs.list': method<JobRecord[]>()(
    z
      .object({
        states: z.array(z.enum(jobStates)).optional(),
        limit: z.int().min(1).max(1000).default(50),
      })
      .strict()
      .optional()
      .default({ limit: 50 }),
  ),
  'jobs.get': method<JobRecord>()(z.object({ id: z.string().min(1).max(64) }).strict()),
  'jobs.start': method<JobRecord>()(startJobSchema),
  /** Ask the job to stop; a worker that does not stop within a few seconds is killed. */
  'jobs.cancel': method<JobRecord>()(z.object({ id: z.string().min(1).max(64) }).strict()),
  'jobs.logs': method<JobLogLine[]>()(
    z.object({ id: z.string().min(1).max(64), limit: z.int().min(1).max(10000).default(500) }),
  ),
}
