import type { ToWorker } from '../../shared/worker-protocol'

export interface WorkerExit {
  code: number | null
  signal: string | null
}

/**
 * A worker process as the supervisor sees it. Electron's `utilityProcess` and Node's
 * `child_process.fork` both hide behind this, so the supervisor is tested under Node.
 */
export interface WorkerHandle {
  readonly pid: number | undefined
  send(message: ToWorker): void
  onMessage(listener: (message: unknown) => void): void
  /** Each line the worker writes to stderr (native libraries log there). */
  onStderr(listener: (line: string) => void): void
  /** Fires once, however the process ended (including failing to start). */
  onExit(listener: (exit: WorkerExit) => void): void
  /** Ask the process to end (SIGTERM). */
  terminate(): void
  /** End it now (SIGKILL). */
  kill(): void
}

export type SpawnWorker = () => WorkerHandle

/** Describe how a worker ended, in words a user can act on. */
export function describeExit(exit: WorkerExit): string {
  if (exit.signal === 'SIGKILL') {
    return 'The worker process was killed (SIGKILL). If nobody stopped it, the system may have run out of memory.'
  }
  if (exit.signal) return `The worker process was stopped by signal ${exit.signal}.`
  if (exit.code === 134)
    return 'The worker process aborted (exit code 134), often a crash in a native library.'
  return `The worker process exited unexpectedly with code ${exit.code ?? 'unknown'}.`
}
