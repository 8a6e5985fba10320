import type { EventBus } from './events'
import type { JobSupervisor } from './jobs/supervisor'
import type { BackendInfo, BackendState } from '../shared/types'

/**
 * Which tfjs backend the workers get. Found by a probe job in a worker (never in this
 * process: loading native TensorFlow here could crash the app), re-run on request.
 */
export class BackendMonitor {
  private state: BackendState = { status: 'probing' }
  private probing: Promise<BackendState> | null = null

  constructor(
    private readonly supervisor: JobSupervisor,
    private readonly events: EventBus,
  ) {}

  current(): BackendState {
    return this.state
  }

  probe(): Promise<BackendState> {
    this.probing ??= (async () => {
      this.set({ status: 'probing' })
      const job = this.supervisor.start({ kind: 'backend.probe', params: {} })
      const done = await this.supervisor.waitFor(job.id)
      this.set(
        done.state === 'succeeded'
          ? { status: 'ready', info: done.result as BackendInfo }
          : {
              status: 'failed',
              message: done.error?.message ?? `The backend probe was ${done.state}.`,
            },
      )
      this.probing = null
      return this.state
    })()
    return this.probing
  }

  private set(state: BackendState): void {
    this.state = state
    this.events.publish('backend.changed', state)
  }
}
