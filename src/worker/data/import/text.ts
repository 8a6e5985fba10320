import { readFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import { isUtf8 } from 'node:buffer'
import { readLines, looksBinary, TOO_LONG_MESSAGE } from './lines'
import type { RawRecord, ReaderOptions } from './records'
import { openBytes, type SourceFile } from './sources'

/** A whole-file document is read into memory: beyond this, split it into blocks instead. */
export const MAX_WHOLE_FILE_BYTES = 64 * 1024 * 1024

/** The 1-based line of the first invalid UTF-8 byte, for the error report. */
function firstBadLine(bytes: Buffer): number {
  let line = 1
  let start = 0
  for (let nl = bytes.indexOf(0x0a); ; nl = bytes.indexOf(0x0a, start)) {
    const end = nl === -1 ? bytes.length : nl
    if (!isUtf8(bytes.subarray(start, end))) return line
    if (nl === -1) return line
    line++
    start = nl + 1
  }
}

/** A whole file's bytes (decompressed), for formats that need the document at once. */
export async function readWhole(file: SourceFile, onRead: (n: number) => void): Promise<Buffer> {
  const raw = await readFile(file.path)
  onRead(raw.length)
  return file.gzip ? gunzipSync(raw, { maxOutputLength: MAX_WHOLE_FILE_BYTES * 4 }) : raw
}

/** .txt, one document per file. */
export async function* readTxtFile(
  file: SourceFile,
  opts: ReaderOptions,
): AsyncGenerator<RawRecord> {
  if (file.size > MAX_WHOLE_FILE_BYTES) {
    yield {
      kind: 'issue',
      line: null,
      message: `File too large for one document (${Math.round(file.size / 1048576)} MB); import it as blank-line-separated blocks (txt-blocks).`,
    }
    return
  }
  const bytes = await readWhole(file, opts.onRead)
  if (looksBinary(bytes)) {
    yield { kind: 'issue', line: null, message: 'Binary file (contains NUL bytes): not text.' }
    return
  }
  if (!isUtf8(bytes)) {
    yield {
      kind: 'issue',
      line: firstBadLine(bytes),
      message: 'Invalid UTF-8: the file is not UTF-8 text.',
    }
    return
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '')
  if (text.trim() === '') yield { kind: 'issue', line: null, message: 'Empty file.' }
  else yield { kind: 'doc', text, source: file.path, meta: null }
}

/** .txt, one document per block of lines separated by blank lines; streamed. */
export async function* readTxtBlocks(
  file: SourceFile,
  opts: ReaderOptions,
): AsyncGenerator<RawRecord> {
  let block: string[] = []
  let startLine = 0
  let bad: number | null = null
  let long = false
  const flush = function* (): Generator<RawRecord> {
    if (bad !== null)
      yield {
        kind: 'issue',
        line: bad,
        message: long ? TOO_LONG_MESSAGE : 'Invalid UTF-8 in this block: skipped.',
      }
    else if (block.length)
      yield { kind: 'doc', text: block.join('\n'), source: `${file.path}:${startLine}`, meta: null }
    block = []
    bad = null
    long = false
  }
  for await (const line of readLines(binaryGuard(openBytes(file, opts.onRead, opts.onDecoded)))) {
    if (line.text !== null && line.text.trim() === '') {
      yield* flush()
      continue
    }
    if (block.length === 0 && bad === null) startLine = line.number
    if (line.text === null) {
      bad ??= line.number
      long ||= line.tooLong === true
    } else block.push(line.number === 1 ? line.text.replace(/^\uFEFF/, '') : line.text)
  }
  yield* flush()
}

/** Stops a stream whose first chunk looks binary, with a message for the report. */
export async function* binaryGuard(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let first = true
  for await (const chunk of chunks) {
    if (first) {
      first = false
      if (looksBinary(chunk)) throw new BinaryFileError()
    }
    yield chunk
  }
}

export class BinaryFileError extends Error {
  constructor() {
    super('Binary file (contains NUL bytes): not text.')
    this.name = 'BinaryFileError'
  }
}
