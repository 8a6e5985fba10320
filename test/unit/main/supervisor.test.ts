import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EventBus } from '../../../src/main/events'
import { nodeWorkerSpawner } from '../../../src/main/jobs/node-worker'
import { JobSupervisor } from '../../../src/main/jobs/supervisor'
import type { EventEnvelope } from '../../../src/shared/events'
import type { JobRecord } from '../../../src/shared/jobs'
import { Store } from '../../../src/store'
import { useTempDir } from '../../helpers/temp'
import { sourceWorkerSpawner } from '../../helpers/worker'
import { addDocuments } from '../../helpers/documents'
import { sqlOf } from '../../helpers/sql'

const tempDir = useTempDir()

function setup(options: { docs?: number; maxConcurrent?: number } = {}) {
  const store = Store.create(join(tempDir(), 'jobs.frugal'))
  const datasetId = store.datasets.create('corpus', new Date().toISOString())
  addDocuments(
    store,
    datasetId,
    Array.from({ length: options.docs ?? 5000 }, (_, i) => ({
      source: `doc-${i}`,
      text: `document number ${i}`,
    })),
  )
  const events = new EventBus()
  const seen: EventEnvelope[] = []
  events.subscribe((e) => seen.push(e))
  const spawn = sourceWorkerSpawner()
  const supervisor = new JobSupervisor({
    spawn,
    events,
    store: () => store,
    maxConcurrent: options.maxConcurrent ?? 2,
    cancelGraceMs: 3000,
  })
  return { store, datasetId, events, seen, spawn, supervisor }
}

const untilEvent = (events: EventBus, predicate: (e: EventEnvelope) => boolean) =>
  new Promise<EventEnvelope>((resolve) => {
    const stop = events.subscribe((e) => {
      if (predicate(e)) {
        stop()
        resolve(e)
      }
    })
  })

describe('job supervisor with real worker processes', () => {
  it('runs a job in a worker, streams progress, and records the outcome in the project', async () => {
    const { store, datasetId, seen, supervisor } = setup({ docs: 5000 })
    const job = supervisor.start({ kind: 'dataset.count', params: { datasetId } })
    expect(job.state).toBe('running') // a slot was free: it started at once
    const done = await supervisor.waitFor(job.id)

    const expectedChars = Array.from(
      { length: 5000 },
      (_, i) => `document number ${i}`.length,
    ).reduce((a, b) => a + b)
    expect(done).toMatchObject({
      state: 'succeeded',
      result: { datasetId, documents: 5000, characters: expectedChars },
    })
    const states = seen
      .filter((e) => e.topic === 'job.state')
      .map((e) => (e.payload as JobRecord).state)
    expect(states).toEqual(['queued', 'running', 'succeeded'])
    const progress = seen.filter((e) => e.topic === 'job.progress')
    expect(progress.length).toBeGreaterThan(1)
    expect(store.jobs.get(job.id)).toMatchObject({
      state: 'succeeded',
      result: { documents: 5000 },
    })
    store.close()
  })

  it('reports a user error from the job as a failed job with its message', async () => {
    const { store, supervisor } = setup({ docs: 1 })
    const job = supervisor.start({ kind: 'dataset.count', params: { datasetId: 4242 } })
    const done = await supervisor.waitFor(job.id)
    expect(done.state).toBe('failed')
    expect(done.error).toEqual({
      code: 'not_found',
      message: 'There is no dataset with id 4242.',
      field: 'datasetId',
    })
    store.close()
  })

  it('cancels a running job: the worker stops and the job is marked cancelled', async () => {
    const { store, events, supervisor } = setup({ docs: 1 })
    const job = supervisor.start({ kind: 'backend.benchmark', params: { seconds: 60, size: 64 } })
    await untilEvent(
      events,
      (e) => e.topic === 'job.progress' && (e.payload as { id: string }).id === job.id,
    )
    supervisor.cancel(job.id)
    const done = await supervisor.waitFor(job.id)
    expect(done.state).toBe('cancelled')
    expect(supervisor.active()).toEqual([])
    store.close()
  })

  it('marks a job failed with the reason when its worker is killed, and the next job gets a fresh worker', async () => {
    const { store, datasetId, events, spawn, supervisor } = setup({ docs: 10 })
    const doomed = supervisor.start({
      kind: 'backend.benchmark',
      params: { seconds: 60, size: 64 },
    })
    await untilEvent(
      events,
      (e) => e.topic === 'job.progress' && (e.payload as { id: string }).id === doomed.id,
    )
    const victim = spawn.spawned[0]
    process.kill(victim.pid!, 'SIGKILL')

    const failed = await supervisor.waitFor(doomed.id)
    expect(failed.state).toBe('failed')
    expect(failed.error?.message).toMatch(/killed \(SIGKILL\)/)

    const next = supervisor.start({ kind: 'dataset.count', params: { datasetId } })
    const done = await supervisor.waitFor(next.id)
    expect(done.state).toBe('succeeded')
    expect(spawn.spawned).toHaveLength(2)
    expect(spawn.spawned[1].pid).not.toBe(victim.pid)
    store.close()
  })

  it('undoes an import whose worker was killed: its documents and its new dataset are gone', async () => {
    const { store, events, spawn, supervisor } = setup({ docs: 10 })
    const file = join(tempDir(), 'big.jsonl')
    writeFileSync(
      file,
      Array.from({ length: 400_000 }, (_, i) => JSON.stringify({ text: `Document ${i}.` })).join(
        '\n',
      ),
    )
    const doomed = supervisor.start({
      kind: 'data.import',
      params: { dataset: 'big', paths: [file], format: 'auto' },
    })
    await untilEvent(events, (e) => {
      const p = e.payload as { id: string; progress?: { metrics?: { documents?: number } } }
      return (
        e.topic === 'job.progress' &&
        p.id === doomed.id &&
        (p.progress?.metrics?.documents ?? 0) > 0
      )
    })
    // Killed before it could undo anything itself (as after a cancel's grace period).
    process.kill(spawn.spawned[0].pid!, 'SIGKILL')

    expect((await supervisor.waitFor(doomed.id)).state).toBe('failed')
    expect(store.datasets.stateByName('big')).toBeNull()
    const left = sqlOf(store)
      .prepare(`SELECT COUNT(*) AS n FROM documents WHERE source LIKE '%big.jsonl%'`)
      .get()
    expect(left).toEqual({ n: 0 })
    store.close()
  })

  it('queues jobs beyond the concurrency limit and runs them in order', async () => {
    const { store, datasetId, supervisor } = setup({ docs: 100, maxConcurrent: 1 })
    const first = supervisor.start({ kind: 'dataset.count', params: { datasetId } })
    const second = supervisor.start({ kind: 'dataset.count', params: { datasetId } })
    expect(supervisor.get(second.id).state).toBe('queued')
    const [a, b] = await Promise.all([supervisor.waitFor(first.id), supervisor.waitFor(second.id)])
    expect([a.state, b.state]).toEqual(['succeeded', 'succeeded'])
    expect(b.startedAt! >= a.finishedAt!).toBe(true)
    store.close()
  })

  it('fails a job cleanly when no worker process can be started', async () => {
    const store = Store.create(join(tempDir(), 'broken.frugal'))
    const supervisor = new JobSupervisor({
      spawn: nodeWorkerSpawner(join(tempDir(), 'no-such-worker.js')),
      events: new EventBus(),
      store: () => store,
    })
    const job = supervisor.start({ kind: 'project.integrityCheck', params: {} })
    const done = await supervisor.waitFor(job.id)
    expect(done.state).toBe('failed')
    expect(done.error?.message).toMatch(/exited unexpectedly with code 1/)
    expect(supervisor.logs(job.id, 100).some((l) => /Cannot find module/.test(l.message))).toBe(
      true,
    )
    store.close()
  })

  it('refuses project jobs when no project is open, but runs machine jobs', async () => {
    const supervisor = new JobSupervisor({
      spawn: sourceWorkerSpawner(),
      events: new EventBus(),
      store: () => null,
    })
    expect(() => supervisor.start({ kind: 'project.integrityCheck', params: {} })).toThrow(
      /Open or create a project/,
    )
    const probe = supervisor.start({ kind: 'backend.probe', params: {} })
    const done = await supervisor.waitFor(probe.id)
    expect(done.state).toBe('succeeded')
    expect(supervisor.list({ limit: 10 }).map((j) => j.id)).toContain(probe.id)
    expect(supervisor.logs(probe.id, 10).some((l) => l.message.startsWith('Using '))).toBe(true)
  })

  it("gives workers the probe's backend, and lets the probe itself walk the ladder", async () => {
    const events = new EventBus()
    // As if the probe had found the cpu backend (here the ladder would pick wasm).
    const supervisor = new JobSupervisor({
      spawn: sourceWorkerSpawner(),
      events,
      store: () => null,
      backendChoice: () => 'cpu',
    })
    const bench = supervisor.start({
      kind: 'backend.benchmark',
      params: { seconds: 0.5, size: 32 },
    })
    expect((await supervisor.waitFor(bench.id)).result).toMatchObject({ backend: 'cpu' })
    const probe = supervisor.start({ kind: 'backend.probe', params: {} })
    expect((await supervisor.waitFor(probe.id)).result).toMatchObject({ name: 'wasm' })
    await supervisor.shutdown()
  })
})
