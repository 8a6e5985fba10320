import type { ImportedDocument } from '../../../store/repos/documents'
import { estimateTokens } from '../text/view'
import { readJsonl } from './jsonl'
import type { RawRecord, ReaderOptions } from './records'
import type { FileFormat, SourceFile } from './sources'
import { BinaryFileError, readTxtBlocks, readTxtFile } from './text'

type Reader = (f: SourceFile, o: ReaderOptions) => AsyncGenerator<RawRecord>

/**
 * The reader of each format. CSV, Parquet and HTML load their libraries when first used:
 * together they take a quarter of a second to load, which every reader thread would
 * otherwise pay before its first document.
 */
const readers: Record<FileFormat, () => Reader | Promise<Reader>> = {
  txt: () => readTxtFile,
  'txt-blocks': () => readTxtBlocks,
  jsonl: () => readJsonl,
  csv: async () => (await import('./csv')).readCsv,
  parquet: async () => (await import('./parquet')).readParquet,
  html: async () => (await import('./html')).readHtml,
}

/** A document longer than this is refused (it would not fit a review screen or a batch). */
export const MAX_DOC_CHARS = 16 * 1024 * 1024
/** A chunk ends after this many records or characters: small enough to keep memory flat. */
const CHUNK_RECORDS = 512
const CHUNK_CHARS = 1024 * 1024

/** A document ready to insert, or a problem with one record, reported with its line. */
export type ImportRecord =
  ({ kind: 'doc' } & ImportedDocument) | { kind: 'issue'; line: number | null; message: string }

/** Part of a file, in file order. */
export interface FileChunk {
  records: ImportRecord[]
  /** Bytes of the file read so far (compressed bytes for .gz), for progress. */
  bytesRead: number
  /** For a .gz file: the bytes it has decompressed to so far. */
  bytesDecoded: number
  /** Set on the last chunk when the file could not be read to its end (the rest is lost). */
  fileError?: string
}

/**
 * Read one file into chunks of documents ready to insert. This is the CPU-bound part of
 * an import (decompressing, splitting, parsing JSON, CSV, Parquet or HTML), so it runs
 * the same on a reader thread (reader-thread.ts) or on the job's thread. A file that
 * cannot be read to its end (corrupt gzip, binary, vanished) ends with `fileError`.
 */
export async function* fileChunks(
  file: SourceFile,
  textField: string | undefined,
): AsyncGenerator<FileChunk> {
  let bytesRead = 0
  let bytesDecoded = 0
  let records: ImportRecord[] = []
  let chars = 0
  const options: ReaderOptions = {
    textField,
    onRead: (n) => (bytesRead += n),
    onDecoded: (n) => (bytesDecoded += n),
  }
  try {
    const read = await readers[file.format]()
    for await (const record of read(file, options)) {
      records.push(toImportRecord(record))
      if (record.kind === 'doc') chars += record.text.length
      // A problem is reported at once: it may come after a long stretch with no documents
      // (a huge line skipped), and the user should see it and the progress then.
      if (records.length >= CHUNK_RECORDS || chars >= CHUNK_CHARS || record.kind === 'issue') {
        yield { records, bytesRead, bytesDecoded }
        records = []
        chars = 0
      }
    }
  } catch (err) {
    yield { records, bytesRead, bytesDecoded, fileError: fileErrorMessage(err) }
    return
  }
  yield { records, bytesRead, bytesDecoded }
}

function toImportRecord(record: RawRecord): ImportRecord {
  if (record.kind === 'issue') return record
  if (record.text.length > MAX_DOC_CHARS)
    return {
      kind: 'issue',
      line: lineOf(record.source),
      message: 'Document too large (over 16 M characters).',
    }
  return {
    kind: 'doc',
    source: record.source,
    text: record.text,
    meta: record.meta,
    charCount: record.text.length,
    tokenEstimate: estimateTokens(record.text),
  }
}

function lineOf(source: string): number | null {
  const m = /:(\d+)$/.exec(source)
  return m ? Number(m[1]) : null
}

function fileErrorMessage(err: unknown): string {
  if (err instanceof BinaryFileError) return err.message
  const e = err as NodeJS.ErrnoException
  if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR')
    return `Corrupt gzip data: ${e.message}`
  if (e.code === 'ENOENT') return 'The file disappeared during the import.'
  if (e.code === 'EACCES') return 'Permission denied.'
  return `Could not read the file: ${e.message ?? String(err)}`
}
