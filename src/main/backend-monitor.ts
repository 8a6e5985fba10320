import type { EventBus } from './events'
import type { JobSupervisor } from './jobs/supervisor'
import type { BackendInfo, BackendState } from '../shared/types'
import type { JobRecord } from '../shared/jobs'

/** A probe normally answers in a few seconds; one that has not after this is stuck. */
const PROBE_TIMEOUT_MS = 30_000

/**
 * Which tfjs backend the workers get. Found by a probe job in a worker (never in this
 * process: loading native TensorFlow here could crash the app), re-run on request.
 */
export class BackendMonitor {
  private state: BackendState = { status: 'probing' }
  private probing: Promise<BackendState> | null = null

  constructor(
    private readonly supervisor: Pick<JobSupervisor, 'start' | 'waitFor' | 'cancel'>,
    private readonly events: EventBus,
    private readonly timeoutMs = PROBE_TIMEOUT_MS,
  ) {}

  current(): BackendState {
    return this.state
  }

  probe(): Promise<BackendState> {
    this.probing ??= (async () => {
      this.set({ status: 'probing' })
      // A probe whose worker hangs (seen, rarely, on a loaded CI machine) is cancelled (its
      // worker killed) and tried once more, so the app does not wait on it forever.
      let done = await this.attempt(this.timeoutMs)
      if (!done) done = await this.attempt(null)
      this.set(
        done?.state === 'succeeded'
          ? { status: 'ready', info: done.result as BackendInfo }
          : {
              status: 'failed',
              message: done?.error?.message ?? `The backend probe was ${done?.state ?? 'stuck'}.`,
            },
      )
      this.probing = null
      return this.state
    })()
    return this.probing
  }

  /** One probe job; null when it has not finished within `timeoutMs` (it is then cancelled). */
  private async attempt(timeoutMs: number | null): Promise<JobRecord | null> {
    const job = this.supervisor.start({ kind: 'backend.probe', params: {} })
    const finished = this.supervisor.waitFor(job.id)
    if (timeoutMs === null) return finished
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs)
      timer.unref()
    })
    const first = await Promise.race([finished, timedOut])
    clearTimeout(timer)
    if (first) return first
    this.supervisor.cancel(job.id)
    await finished
    return null
  }

  private set(state: BackendState): void {
    this.state = state
    this.events.publish('backend.changed', state)
  }
}
