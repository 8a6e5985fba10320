import { randomUUID } from 'node:crypto'
import type { EventBus } from '../events'
import type { Store } from '../../store'
import { isProcessAlive } from '../../store/process-alive'
import { UserError, type ApiError } from '../../shared/errors'
import {
  isFinished,
  jobKindDefinitions,
  type JobLogLine,
  type JobRecord,
  type JobState,
  type StartJob,
} from '../../shared/jobs'
import { fromWorkerSchema, type FromWorker } from '../../shared/worker-protocol'
import { checkJob } from './preconditions'
import { describeExit, type SpawnWorker, type WorkerExit, type WorkerHandle } from './worker-port'

export interface SupervisorOptions {
  spawn: SpawnWorker
  events: EventBus
  /** The open project, where project jobs are recorded; null when none is open. */
  store: () => Store | null
  /** Jobs running at once; the rest wait in order. */
  maxConcurrent?: number
  /** How long a cancelled worker may take to stop before it is killed. */
  cancelGraceMs?: number
  /** Progress is sent live but written to the project at most this often. */
  progressWriteIntervalMs?: number
  now?: () => Date
  /** The backend the probe chose, for the workers (ToWorker's `backend`); undefined: none yet. */
  backendChoice?: () => string | undefined
}

interface LiveJob {
  record: JobRecord
  store: Store | null
  worker: WorkerHandle | null
  cancelRequested: boolean
  killTimer: NodeJS.Timeout | null
  lastProgressWrite: number
  stderrTail: string[]
  /** Log of jobs with no project to record it in. */
  memoryLog: JobLogLine[]
  waiters: ((record: JobRecord) => void)[]
}

const STDERR_TAIL = 5
const MEMORY_LOG_LINES = 2000
const KEEP_FINISHED_MACHINE_JOBS = 50

/**
 * Runs each job in a fresh worker process and keeps its record true: queued, running,
 * then exactly one of succeeded, failed or cancelled. A worker that dies without
 * reporting marks its job failed with the reason, and the next job gets a new worker.
 */
export class JobSupervisor {
  private readonly jobs = new Map<string, LiveJob>()
  private readonly maxConcurrent: number
  private readonly cancelGraceMs: number
  private readonly progressWriteIntervalMs: number
  private readonly now: () => Date

  constructor(private readonly options: SupervisorOptions) {
    this.maxConcurrent = options.maxConcurrent ?? 2
    this.cancelGraceMs = options.cancelGraceMs ?? 5000
    this.progressWriteIntervalMs = options.progressWriteIntervalMs ?? 1000
    this.now = options.now ?? (() => new Date())
  }

  /**
   * The kind's declared preconditions (main/jobs/preconditions.ts) against the open project
   * and this session's jobs: the request as it would start (outputs resolved), or a
   * UserError. `start` checks again; a caller checks first when it must act in between.
   */
  check<R extends StartJob>(request: R): R {
    return checkJob(request, { store: this.options.store(), active: this.active() })
  }

  /** Queue a job (params already validated) and start it when a slot is free. */
  start(unchecked: StartJob): JobRecord {
    const store = jobKindDefinitions[unchecked.kind].needsProject ? this.options.store() : null
    if (jobKindDefinitions[unchecked.kind].needsProject && !store) {
      throw new UserError(
        'no_project',
        'Open or create a project first: this job works on project data.',
      )
    }
    const request = this.check(unchecked)
    const record: JobRecord = {
      id: randomUUID(),
      kind: request.kind,
      params: request.params,
      state: 'queued',
      progress: null,
      result: null,
      error: null,
      createdAt: this.now().toISOString(),
      startedAt: null,
      finishedAt: null,
    }
    store?.jobs.insert(record, process.pid)
    this.jobs.set(record.id, {
      record,
      store,
      worker: null,
      cancelRequested: false,
      killTimer: null,
      lastProgressWrite: 0,
      stderrTail: [],
      memoryLog: [],
      waiters: [],
    })
    this.options.events.publish('job.state', record)
    this.pump()
    return this.jobs.get(record.id)!.record
  }

  /** Cancel a queued or running job. Finished jobs are returned unchanged. */
  cancel(id: string): JobRecord {
    const job = this.jobs.get(id)
    if (!job) return this.get(id)
    if (isFinished(job.record.state)) return job.record
    if (job.record.state === 'queued') {
      this.finish(job, 'cancelled', {})
      return job.record
    }
    if (!job.cancelRequested) {
      job.cancelRequested = true
      job.worker?.send({ type: 'cancel', jobId: id })
      job.killTimer = setTimeout(
        () => job.worker?.kill(),
        jobKindDefinitions[job.record.kind].cancelGraceMs ?? this.cancelGraceMs,
      )
      this.log(job, 'info', 'Cancellation requested.')
    }
    return job.record
  }

  /** Ask a running job that can pause (training) to save its state and end. */
  pause(id: string): JobRecord {
    const job = this.jobs.get(id)
    if (!job || job.record.state !== 'running') return this.get(id)
    job.worker?.send({ type: 'pause', jobId: id })
    this.log(job, 'info', 'Pause requested.')
    return job.record
  }

  get(id: string): JobRecord {
    const record = this.jobs.get(id)?.record ?? this.options.store()?.jobs.get(id)
    if (!record) throw new UserError('not_found', `There is no job ${id}.`, 'id')
    return record
  }

  /** This session's jobs merged with the open project's history, newest first. */
  list(options: { states?: readonly JobState[]; limit: number }): JobRecord[] {
    const byId = new Map<string, JobRecord>()
    for (const r of this.options.store()?.jobs.list(options) ?? []) byId.set(r.id, r)
    for (const { record } of this.jobs.values()) {
      if (!options.states || options.states.includes(record.state)) byId.set(record.id, record)
    }
    return [...byId.values()]
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, options.limit)
  }

  logs(id: string, limit: number): JobLogLine[] {
    const job = this.jobs.get(id)
    if (job && !job.store) return job.memoryLog.slice(0, limit)
    this.get(id) // not_found if unknown
    return this.options.store()?.jobs.logs(id, limit) ?? []
  }

  /** Jobs queued or running now. */
  active(): JobRecord[] {
    return [...this.jobs.values()].map((j) => j.record).filter((r) => !isFinished(r.state))
  }

  /** Resolves when the job has finished, however it ended. */
  waitFor(id: string): Promise<JobRecord> {
    const job = this.jobs.get(id)
    if (!job || isFinished(job.record.state)) return Promise.resolve(this.get(id))
    return new Promise((resolve) => job.waiters.push(resolve))
  }

  /** Cancel everything and wait (up to the grace period) for the workers to stop. */
  async shutdown(): Promise<void> {
    const pending = this.active()
    for (const r of pending) this.cancel(r.id)
    await Promise.all(pending.map((r) => this.waitFor(r.id)))
  }

  private pump(): void {
    const all = [...this.jobs.values()]
    let running = all.filter((j) => j.record.state === 'running').length
    for (const job of all) {
      if (running >= this.maxConcurrent) break
      if (job.record.state !== 'queued') continue
      this.launch(job)
      running++
    }
  }

  private launch(job: LiveJob): void {
    this.update(job, { state: 'running', startedAt: this.now().toISOString() })
    let worker: WorkerHandle
    try {
      worker = this.options.spawn()
    } catch (err) {
      this.finish(job, 'failed', {
        error: {
          code: 'internal',
          message: `Could not start a worker process: ${(err as Error).message}`,
        },
      })
      return
    }
    job.worker = worker
    worker.onStderr((line) => {
      job.stderrTail = [...job.stderrTail, line].slice(-STDERR_TAIL)
      this.log(job, 'warn', line)
    })
    worker.onMessage((raw) => this.onMessage(job, raw))
    worker.onExit((exit) => this.onExit(job, exit))
  }

  private onMessage(job: LiveJob, raw: unknown): void {
    const parsed = fromWorkerSchema.safeParse(raw)
    if (!parsed.success) {
      this.log(job, 'error', `Ignored a malformed message from the worker: ${parsed.error.message}`)
      return
    }
    const message: FromWorker = parsed.data
    if (message.type !== 'ready' && message.jobId !== job.record.id) return
    switch (message.type) {
      case 'ready': {
        const dbPath = job.store?.path ?? null
        // The probe walks the ladder itself: that is what it is for.
        const backend =
          job.record.kind === 'backend.probe' ? undefined : this.options.backendChoice?.()
        job.worker?.send({
          type: 'run',
          jobId: job.record.id,
          kind: job.record.kind,
          params: job.record.params,
          dbPath,
          ...(backend ? { backend } : {}),
        })
        if (job.cancelRequested) job.worker?.send({ type: 'cancel', jobId: job.record.id })
        return
      }
      case 'progress':
        this.progress(job, message.progress)
        return
      case 'log':
        this.log(job, message.level, message.message)
        return
      case 'output':
        this.options.events.publish('job.output', {
          id: job.record.id,
          kind: job.record.kind,
          seq: message.seq,
          text: message.text,
        })
        return
      case 'succeeded':
        this.finish(job, 'succeeded', { result: message.result })
        return
      case 'failed':
        this.finish(job, 'failed', { error: message.error })
        return
      case 'cancelled':
        this.finish(job, 'cancelled', {})
        return
    }
  }

  private onExit(job: LiveJob, exit: WorkerExit): void {
    if (job.killTimer) clearTimeout(job.killTimer)
    job.worker = null
    if (isFinished(job.record.state)) return
    this.undoOrphans(job)
    if (job.cancelRequested) {
      this.finish(job, 'cancelled', {})
      return
    }
    const tail = job.stderrTail.length ? ` Last output: ${job.stderrTail.join(' | ')}` : ''
    this.finish(job, 'failed', {
      error: { code: 'internal', message: `${describeExit(exit)}${tail}` },
    })
  }

  /**
   * A worker that ended without finishing its job (killed when a cancelled job outlived its
   * grace period, or crashed) could not undo its provisional work: an import it was running
   * is undone here (its documents, and its dataset if the import created it), as the next
   * import would otherwise do, so a cancelled import leaves nothing however it ended.
   */
  private undoOrphans(job: LiveJob): void {
    try {
      const undone = job.store?.imports.abandonOrphans(isProcessAlive) ?? 0
      if (undone > 0) this.log(job, 'info', 'The unfinished import was undone.')
    } catch (err) {
      this.log(job, 'error', `Could not undo the unfinished import: ${(err as Error).message}`)
    }
  }

  private progress(job: LiveJob, progress: JobRecord['progress'] & object): void {
    job.record = { ...job.record, progress }
    this.options.events.publish('job.progress', {
      id: job.record.id,
      kind: job.record.kind,
      progress,
    })
    const t = Date.now()
    if (job.store && t - job.lastProgressWrite >= this.progressWriteIntervalMs) {
      job.lastProgressWrite = t
      this.persist(job)
    }
  }

  private finish(
    job: LiveJob,
    state: JobState,
    outcome: { result?: unknown; error?: ApiError },
  ): void {
    if (isFinished(job.record.state)) return
    if (job.killTimer) clearTimeout(job.killTimer)
    this.update(job, {
      state,
      finishedAt: this.now().toISOString(),
      result: outcome.result ?? null,
      error: outcome.error ?? null,
    })
    // The worker's work is done; let it close its project connection and exit.
    const worker = job.worker
    if (worker) {
      worker.terminate()
      const force = setTimeout(() => worker.kill(), this.cancelGraceMs)
      worker.onExit(() => clearTimeout(force))
    }
    for (const resolve of job.waiters.splice(0)) resolve(job.record)
    this.forgetFinished()
    this.pump()
  }

  private update(job: LiveJob, patch: Partial<JobRecord>): void {
    job.record = { ...job.record, ...patch }
    this.persist(job)
    this.options.events.publish('job.state', job.record)
  }

  private persist(job: LiveJob): void {
    if (!job.store) return
    try {
      job.store.jobs.update(job.record)
    } catch (err) {
      // The project may have been closed under us; the live record stays correct.
      console.error(`could not record job ${job.record.id}:`, err)
    }
  }

  private log(job: LiveJob, level: JobLogLine['level'], message: string): void {
    const line: JobLogLine = { at: this.now().toISOString(), level, message }
    if (!job.store) {
      if (job.memoryLog.length < MEMORY_LOG_LINES) job.memoryLog.push(line)
      return
    }
    try {
      job.store.jobs.appendLog(job.record.id, line)
    } catch (err) {
      console.error(`could not log for job ${job.record.id}:`, err)
    }
  }

  /** Finished project jobs live on in the project; keep only recent machine jobs in memory. */
  private forgetFinished(): void {
    const finished = [...this.jobs.values()].filter((j) => isFinished(j.record.state))
    for (const job of finished) if (job.store) this.jobs.delete(job.record.id)
    const machine = finished.filter((j) => !j.store)
    for (const job of machine.slice(0, Math.max(0, machine.length - KEEP_FINISHED_MACHINE_JOBS))) {
      this.jobs.delete(job.record.id)
    }
  }
}
