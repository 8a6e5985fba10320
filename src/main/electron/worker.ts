import { utilityProcess } from 'electron'
import { createInterface } from 'node:readline'
import type { SpawnWorker, WorkerExit, WorkerHandle } from '../jobs/worker-port'

/** Worker processes in the desktop app: Electron utility processes (Node, no window). */
export function utilityWorkerSpawner(entry: string, env: Record<string, string>): SpawnWorker {
  return () => {
    const child = utilityProcess.fork(entry, [], {
      serviceName: 'Frugal worker',
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, ...env },
    })
    let exited: WorkerExit | null = null
    const exitListeners: ((exit: WorkerExit) => void)[] = []
    child.on('exit', (code) => {
      exited = { code, signal: null }
      for (const l of exitListeners) l(exited)
    })
    const handle: WorkerHandle = {
      get pid() {
        return child.pid
      },
      send: (message) => child.postMessage(message),
      onMessage: (listener) => child.on('message', listener),
      onStderr: (listener) => {
        if (child.stderr) createInterface({ input: child.stderr }).on('line', listener)
      },
      onExit: (listener) => (exited ? listener(exited) : exitListeners.push(listener)),
      terminate: () => {
        if (!exited) child.kill()
      },
      kill: () => {
        if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
      },
    }
    return handle
  }
}
