import { Worker } from 'node:worker_threads'
import type { LogisticModel } from '../quality/logistic'
import type { ProcessConfig, ProcessedDoc } from './process'
import type { FromThread, ThreadData, ToThread } from './protocol'
import { dataThreadEntry } from '../thread-entry'

type Docs = { id: number; text: string }[]

/**
 * A thread's heap is bounded well below V8's default, which would let garbage pile up to
 * gigabytes before collecting: the working set is a batch, the language model and the
 * quality model's weights. This keeps memory flat whatever the corpus size.
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 16 }

/** Where the CPU-bound work of a batch runs: worker threads, or this thread. */
export interface DocumentProcessor {
  process(docs: Docs, features: boolean): Promise<ProcessedDoc[]>
  score(docs: Docs): Promise<{ id: number; score: number }[]>
  setModel(model: LogisticModel | null): void
  /** Batches that can usefully be in flight at once. */
  readonly parallelism: number
  close(): Promise<void>
}

interface Pending {
  resolve: (message: FromThread) => void
  reject: (err: Error) => void
}

/**
 * A fixed pool of worker threads. Each batch goes to the thread with the fewest batches
 * in flight; the caller keeps about `parallelism` batches outstanding so every thread is
 * busy while the main thread reads and writes SQLite.
 */
export class ThreadPool implements DocumentProcessor {
  private readonly threads: { worker: Worker; busy: number }[] = []
  private readonly pending = new Map<number, Pending>()
  private seq = 0
  private failure: Error | null = null
  readonly parallelism: number

  constructor(size: number, config: ProcessConfig) {
    const entry = dataThreadEntry('data-thread')
    const data: ThreadData = { config }
    for (let i = 0; i < size; i++) {
      const worker = new Worker(entry, { workerData: data, resourceLimits: THREAD_LIMITS })
      const slot = { worker, busy: 0 }
      worker.on('message', (m: FromThread) => {
        slot.busy--
        const p = this.pending.get(m.seq)
        this.pending.delete(m.seq)
        p?.resolve(m)
      })
      worker.on('error', (err) => this.fail(err))
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`A cleaning thread exited with code ${code}.`))
      })
      this.threads.push(slot)
    }
    this.parallelism = size * 2
  }

  private fail(err: Error): void {
    this.failure ??= err
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  private send(message: ToThread & { seq: number }): Promise<FromThread> {
    if (this.failure) return Promise.reject(this.failure)
    const slot = this.threads.reduce((a, b) => (b.busy < a.busy ? b : a))
    slot.busy++
    return new Promise((resolve, reject) => {
      this.pending.set(message.seq, { resolve, reject })
      slot.worker.postMessage(message)
    })
  }

  async process(docs: Docs, features: boolean): Promise<ProcessedDoc[]> {
    const reply = await this.send({ type: 'process', seq: ++this.seq, docs, features })
    if (reply.type === 'error') throw new Error(`Cleaning thread failed: ${reply.message}`)
    if (reply.type !== 'processed') throw new Error(`Unexpected reply ${reply.type}`)
    return reply.docs
  }

  async score(docs: Docs): Promise<{ id: number; score: number }[]> {
    const reply = await this.send({ type: 'score', seq: ++this.seq, docs })
    if (reply.type === 'error') throw new Error(`Scoring thread failed: ${reply.message}`)
    if (reply.type !== 'scored') throw new Error(`Unexpected reply ${reply.type}`)
    return reply.scores
  }

  setModel(model: LogisticModel | null): void {
    for (const { worker } of this.threads)
      worker.postMessage({
        type: 'model',
        weights: model ? model.weights : null,
        bias: model?.bias ?? 0,
      } satisfies ToThread)
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()))
  }
}
