import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { dataThreadEntry } from '../thread-entry'
import { fileChunks, type FileChunk } from './file-chunks'
import type { FromReader, ToReader } from './reader-protocol'
import type { SourceFile } from './sources'

/** Below this many bytes in all, files are read on the job's thread: a thread's start costs more. */
export const READER_THREADS_MIN_BYTES = 8 * 1024 * 1024

/** Where an import's files are read and parsed. */
export interface FileReaders {
  /** The chunks of `files[index]` in order. Take the files in order: 0, 1, 2… */
  chunks(index: number): AsyncIterable<FileChunk>
  close(): Promise<void>
}

/**
 * Readers for an import: worker threads for large ones (`threads` of them, by default one
 * per core but no more than there are files), else this thread. With threads the job's
 * thread only writes SQLite while the files are parsed beside it.
 */
export function openFileReaders(
  files: readonly SourceFile[],
  textField: string | undefined,
  threads?: number,
): FileReaders {
  const bytes = files.reduce((n, f) => n + f.size, 0)
  const count = Math.min(
    files.length,
    threads ?? (bytes < READER_THREADS_MIN_BYTES ? 0 : availableParallelism()),
  )
  if (count <= 0) return { chunks: (i) => fileChunks(files[i], textField), close: async () => {} }
  return new ReaderThreads(files, textField, count)
}

interface FileQueue {
  thread: Worker
  chunks: FileChunk[]
  ended: boolean
}

/**
 * Reader threads. Files go to threads in order, the next one to whichever thread ends
 * its file first, so a thread may be reading file 5 while the job still writes file 3;
 * each thread stays at most READ_AHEAD_CHUNKS chunks ahead of what the job has taken.
 * The job takes files in order, and the file it waits for always belongs to a thread that
 * can go on (its untaken chunks are of that file), so this never deadlocks.
 */
class ReaderThreads implements FileReaders {
  private readonly threads: Worker[] = []
  private readonly queues = new Map<number, FileQueue>()
  private nextFile = 0
  private failure: Error | null = null
  private closing = false
  private wake: (() => void) | null = null

  constructor(
    private readonly files: readonly SourceFile[],
    private readonly textField: string | undefined,
    count: number,
  ) {
    const entry = dataThreadEntry('import-thread')
    for (let i = 0; i < count; i++) {
      const thread = new Worker(entry)
      thread.on('message', (m: FromReader) => this.received(thread, m))
      thread.on('error', (err) => this.fail(err))
      thread.on('exit', (code) => {
        if (code !== 0 && !this.closing)
          this.fail(new Error(`A file reading thread exited with code ${code}.`))
      })
      this.threads.push(thread)
      this.assign(thread)
    }
  }

  private assign(thread: Worker): void {
    if (this.nextFile >= this.files.length) return
    const index = this.nextFile++
    this.queues.set(index, { thread, chunks: [], ended: false })
    const request: ToReader = {
      type: 'read',
      index,
      file: this.files[index],
      textField: this.textField,
    }
    thread.postMessage(request)
  }

  private received(thread: Worker, m: FromReader): void {
    const queue = this.queues.get(m.index)
    if (m.type === 'failed')
      this.fail(new Error(`Reading ${this.files[m.index].path} failed: ${m.message}`))
    else if (queue && m.type === 'chunk') queue.chunks.push(m.chunk)
    else if (queue && m.type === 'end') {
      queue.ended = true
      this.assign(thread)
    }
    this.notify()
  }

  private fail(err: Error): void {
    this.failure ??= err
    this.notify()
  }

  private notify(): void {
    const wake = this.wake
    this.wake = null
    wake?.()
  }

  async *chunks(index: number): AsyncGenerator<FileChunk> {
    for (;;) {
      if (this.failure) throw this.failure
      const queue = this.queues.get(index)
      const chunk = queue?.chunks.shift()
      if (queue && chunk) {
        queue.thread.postMessage({ type: 'credit' } satisfies ToReader)
        yield chunk
      } else if (queue?.ended) {
        this.queues.delete(index)
        return
      } else await new Promise<void>((resolve) => (this.wake = resolve))
    }
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.all(this.threads.map((t) => t.terminate()))
  }
}
