import { describe, expect, it } from 'vitest'
import { BackendMonitor } from '../../../src/main/backend-monitor'
import { EventBus } from '../../../src/main/events'
import type { JobRecord } from '../../../src/shared/jobs'

/** A supervisor whose probe jobs answer (or hang) as the test says. */
function fakeSupervisor(answers: ('hang' | 'ok')[]) {
  const waiters = new Map<string, (r: JobRecord) => void>()
  const cancelled: string[] = []
  let n = 0
  const record = (id: string, state: JobRecord['state'], result: unknown = null): JobRecord => ({
    id,
    kind: 'backend.probe',
    params: {},
    state,
    progress: null,
    result,
    error: null,
    createdAt: '',
    startedAt: null,
    finishedAt: null,
  })
  return {
    cancelled,
    supervisor: {
      start() {
        const id = `job-${n}`
        const answer = answers[n++]
        if (answer === 'ok')
          setTimeout(() => waiters.get(id)?.(record(id, 'succeeded', { name: 'wasm' })), 5)
        return record(id, 'running')
      },
      waitFor(id: string) {
        return new Promise<JobRecord>((resolve) => waiters.set(id, resolve))
      },
      cancel(id: string) {
        cancelled.push(id)
        waiters.get(id)?.(record(id, 'cancelled'))
        return record(id, 'cancelled')
      },
    },
  }
}

describe('backend monitor', () => {
  it('reports the probe’s backend', async () => {
    const { supervisor } = fakeSupervisor(['ok'])
    const state = await new BackendMonitor(supervisor, new EventBus(), 1000).probe()
    expect(state).toMatchObject({ status: 'ready', info: { name: 'wasm' } })
  })

  it('cancels a probe that hangs and tries once more', async () => {
    const { supervisor, cancelled } = fakeSupervisor(['hang', 'ok'])
    const events = new EventBus()
    const seen: string[] = []
    events.subscribe((e) => seen.push(`${e.topic}:${(e.payload as { status: string }).status}`))
    const state = await new BackendMonitor(supervisor, events, 50).probe()
    expect(cancelled).toEqual(['job-0'])
    expect(state).toMatchObject({ status: 'ready', info: { name: 'wasm' } })
    expect(seen).toEqual(['backend.changed:probing', 'backend.changed:ready'])
  })
})
