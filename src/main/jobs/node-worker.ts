import { fork } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { SpawnWorker, WorkerExit, WorkerHandle } from './worker-port'

export interface NodeWorkerOptions {
  /** Extra Node flags, e.g. `--import tsx` to run the TypeScript source in tests. */
  execArgv?: string[]
  env?: NodeJS.ProcessEnv
}

/** Worker processes for the headless server, the CLI and tests: `child_process.fork`. */
export function nodeWorkerSpawner(entry: string, options: NodeWorkerOptions = {}): SpawnWorker {
  return () => {
    const child = fork(entry, [], {
      execArgv: options.execArgv ?? [],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      // Structured clone keeps typed arrays intact across the boundary.
      serialization: 'advanced',
    })
    const exitListeners: ((exit: WorkerExit) => void)[] = []
    let exited: WorkerExit | null = null
    const finish = (exit: WorkerExit): void => {
      if (exited) return
      exited = exit
      for (const l of exitListeners) l(exit)
    }
    child.on('exit', (code, signal) => finish({ code, signal }))
    // `error` without `exit` happens when the process could not be spawned at all.
    child.on('error', (err) => {
      if (child.exitCode === null && child.signalCode === null && child.pid === undefined) {
        finish({ code: null, signal: null })
        console.error('worker failed to start:', err)
      }
    })

    const handle: WorkerHandle = {
      get pid() {
        return child.pid
      },
      send(message) {
        if (child.connected) child.send(message)
      },
      onMessage(listener) {
        child.on('message', listener)
      },
      onStderr(listener) {
        if (child.stderr) createInterface({ input: child.stderr }).on('line', listener)
      },
      onExit(listener) {
        if (exited) listener(exited)
        else exitListeners.push(listener)
      },
      terminate() {
        if (!exited) child.kill('SIGTERM')
      },
      kill() {
        if (!exited) child.kill('SIGKILL')
      },
    }
    return handle
  }
}
