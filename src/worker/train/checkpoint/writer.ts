import type { Worker } from 'node:worker_threads'
import { paramSpecs } from '../../model/params'
import { startThread } from '../../threads'
import type { TrainingState } from '../trainer'
import type { WriteRequest, WriterReply } from './protocol'

export type WrittenCheckpoint = Extract<WriterReply, { type: 'written' }>

/** What a checkpoint keeps besides tensors: enough to rebuild the Trainer exactly. */
export type CheckpointState = Omit<TrainingState, 'tensors'>

export interface CheckpointMeta {
  reason: string
  trainLoss: number | null
  valLoss: number | null
  /** Every this many checkpoints a full one; deltas in between. */
  fullEvery: number
  /** Checkpoints kept per run after this one is written. */
  keep: number
}

/**
 * Writes checkpoints from a worker thread. The training loop hands over a snapshot (its
 * buffers are transferred, not copied) and continues; `write` resolves when the
 * checkpoint is committed. Writes are queued in order, one at a time.
 */
export class CheckpointWriter {
  private nextId = 1
  private readonly waiting = new Map<
    number,
    { resolve: (w: WrittenCheckpoint) => void; reject: (e: Error) => void }
  >()
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WriterReply) => {
      if (m.type === 'ready') return
      const w = this.waiting.get(m.id)
      this.waiting.delete(m.id)
      if (m.type === 'written') w?.resolve(m)
      else w?.reject(new Error(`Writing the checkpoint failed: ${m.message}`))
    })
    worker.on('error', (err) => {
      for (const w of this.waiting.values()) w.reject(err)
      this.waiting.clear()
    })
  }

  static start(entry: string, dbPath: string, nativeBinding?: string): Promise<CheckpointWriter> {
    const worker = startThread(entry, { dbPath, nativeBinding })
    return new Promise((resolve, reject) => {
      worker.once('error', reject)
      worker.once('message', (m: WriterReply) => {
        worker.off('error', reject)
        if (m.type === 'ready') resolve(new CheckpointWriter(worker))
        else reject(new Error('The checkpoint writer failed to start.'))
      })
    })
  }

  /** Queue a snapshot for writing. The state's tensor buffers are handed over: do not reuse them. */
  write(runId: string, state: TrainingState, meta: CheckpointMeta): Promise<WrittenCheckpoint> {
    const shapes = new Map(paramSpecs(state.model).map((s) => [s.name, s.shape]))
    const tensors = [...state.tensors].map(([name, values]) => ({
      name,
      shape: shapes.get(name.slice(name.indexOf('/') + 1)) ?? [values.length],
      values,
    }))
    const { tensors: _omit, ...rest } = state
    const job = this.queue.then(
      () =>
        new Promise<WrittenCheckpoint>((resolve, reject) => {
          const id = this.nextId++
          this.waiting.set(id, { resolve, reject })
          const req: WriteRequest = {
            type: 'write',
            id,
            runId,
            step: state.step,
            state: rest,
            tensors,
            ...meta,
          }
          this.worker.postMessage(
            req,
            tensors.map((t) => t.values.buffer as ArrayBuffer),
          )
        }),
    )
    this.queue = job.catch(() => undefined)
    return job
  }

  /** Wait for every write queued so far. */
  async flush(): Promise<void> {
    await this.queue
  }

  async close(): Promise<void> {
    await this.flush()
    await this.worker.terminate()
  }
}
