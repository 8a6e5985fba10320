import { join } from 'node:path'
import { afterEach } from 'vitest'
import { createBackend, type Backend } from '../../src/main/backend'
import type { MethodName, Params, Result } from '../../src/shared/api'
import type { ApiError, ApiResult } from '../../src/shared/errors'
import type { JobRecord } from '../../src/shared/jobs'
import { sourceWorkerSpawner } from './worker'

/**
 * The app's backend in this process, with real worker processes (from source) and a
 * project in `dir`: what the API tests call. Shut down after each test.
 */
export function useApiBackend() {
  let backend: Backend | null = null
  afterEach(async () => {
    await backend?.shutdown()
    backend = null
  })
  return (dir: string) => {
    const b = createBackend({
      mode: 'serve',
      userDataDir: join(dir, 'home'),
      spawnWorker: sourceWorkerSpawner({ FRUGAL_DATA_THREADS: '0' }),
    })
    backend = b
    b.ctx.project.openOrCreate(join(dir, 'p.frugal'))
    /** Call a method; a failure throws with its code and message. */
    async function call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
      const r = (await b.router.invoke(method, params)) as ApiResult<Result<M>>
      if (!r.ok) throw new Error(`${method}: ${r.error.code}: ${r.error.message}`)
      return r.value
    }
    /** Call a method that must fail; its error. */
    async function fails<M extends MethodName>(method: M, params: Params<M>): Promise<ApiError> {
      const r = await b.router.invoke(method, params)
      if (r.ok) throw new Error(`${method} should have failed`)
      return r.error
    }
    const finished = (job: JobRecord) => b.ctx.jobs.waitFor(job.id)
    return { backend: b, call, fails, finished }
  }
}
