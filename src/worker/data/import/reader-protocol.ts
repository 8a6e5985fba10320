import type { FileChunk } from './file-chunks'
import type { SourceFile } from './sources'

/** Chunks a reader thread may post before the job has taken them: bounds the memory. */
export const READ_AHEAD_CHUNKS = 8

/** Messages from the import job to a reader thread. */
export type ToReader =
  | { type: 'read'; index: number; file: SourceFile; textField: string | undefined }
  /** The job took one of this thread's chunks. */
  | { type: 'credit' }

/** Messages from a reader thread: chunks of file `index` in order, then its end. */
export type FromReader =
  | { type: 'chunk'; index: number; chunk: FileChunk }
  | { type: 'end'; index: number }
  | { type: 'failed'; index: number; message: string }
