import { resolve } from 'node:path'
import { nodeWorkerSpawner } from '../../src/main/jobs/node-worker'
import type { SpawnWorker, WorkerHandle } from '../../src/main/jobs/worker-port'

/** Real worker processes running the TypeScript source through tsx. */
export function sourceWorkerSpawner(
  env: NodeJS.ProcessEnv = {},
): SpawnWorker & { spawned: WorkerHandle[] } {
  const base = nodeWorkerSpawner(resolve('src/worker/index.ts'), {
    execArgv: ['--import', 'tsx'],
    env,
  })
  const spawned: WorkerHandle[] = []
  const spawn = (() => {
    const handle = base()
    spawned.push(handle)
    return handle
  }) as SpawnWorker & { spawned: WorkerHandle[] }
  spawn.spawned = spawned
  return spawn
}
