/**
 * A worker thread of the import job: reads the files the job hands it (decompressing and
 * parsing them, reader-threads.ts) and posts their documents back in chunks, never more
 * than READ_AHEAD_CHUNKS ahead of what the job has taken.
 */
import { parentPort } from 'node:worker_threads'
import { fileChunks } from './file-chunks'
import { READ_AHEAD_CHUNKS, type FromReader, type ToReader } from './reader-protocol'

const port = parentPort!
let credits = READ_AHEAD_CHUNKS
let onCredit: (() => void) | null = null

port.on('message', (message: ToReader) => {
  if (message.type === 'credit') {
    credits++
    onCredit?.()
    onCredit = null
  } else void read(message)
})

function post(message: FromReader): void {
  port.postMessage(message)
}

// The job sends the next file only after this one's 'end': one read runs at a time.
async function read(request: Extract<ToReader, { type: 'read' }>): Promise<void> {
  const { index } = request
  try {
    for await (const chunk of fileChunks(request.file, request.textField)) {
      while (credits === 0) await new Promise<void>((resolve) => (onCredit = resolve))
      credits--
      post({ type: 'chunk', index, chunk })
    }
    post({ type: 'end', index })
  } catch (err) {
    post({ type: 'failed', index, message: err instanceof Error ? err.message : String(err) })
  }
}
