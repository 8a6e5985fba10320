import { isUtf8 } from 'node:buffer'

export interface Line {
  /** 1-based line number. */
  number: number
  /** The line's text, or null when its bytes are not valid UTF-8 or it is too long. */
  text: string | null
  /** Longer than the limit: its text was not kept (the rest of it is skipped, unread). */
  tooLong?: boolean
}

/**
 * No line may be longer than this: a document is at most 16 M characters (MAX_DOC_CHARS),
 * and 64 MiB of UTF-8 holds that even with JSON's escapes. A single-line file that
 * expands to gigabytes would otherwise be held in memory whole before being refused.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024

/** What a reader reports for a line past MAX_LINE_BYTES. */
export const TOO_LONG_MESSAGE =
  'Line longer than 64 MB: skipped (a document may have at most 16 M characters).'

/**
 * Split a byte stream into lines ("\n" or "\r\n"), validating each as UTF-8 on its own,
 * so one bad line is reported by number and the rest of the file still reads. Memory is
 * bounded by `maxBytes`: a longer line is reported (`tooLong`) as soon as it passes the
 * limit, and the rest of it is skipped up to its newline.
 */
export async function* readLines(
  chunks: AsyncIterable<Buffer>,
  maxBytes = MAX_LINE_BYTES,
): AsyncGenerator<Line> {
  // The pieces of the line in progress, joined once at its end (joining at every chunk
  // copied a long line over and over: quadratic).
  let pieces: Buffer[] = []
  let pending = 0
  /** Inside a line already reported as too long: its bytes are dropped to its newline. */
  let skipping = false
  let number = 0
  const decode = (bytes: Buffer): Line => {
    number++
    let end = bytes.length
    if (end > 0 && bytes[end - 1] === 0x0d) end--
    const body = bytes.subarray(0, end)
    return { number, text: isUtf8(body) ? body.toString('utf8') : null }
  }
  const tooLong = (): Line => {
    pieces = []
    pending = 0
    return { number: ++number, text: null, tooLong: true }
  }
  for await (const chunk of chunks) {
    let start = 0
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl)
      start = nl + 1
      if (skipping)
        skipping = false // the long line ends here
      else if (pending + piece.length > maxBytes) yield tooLong()
      else {
        yield decode(pending === 0 ? piece : Buffer.concat([...pieces, piece]))
        pieces = []
        pending = 0
      }
    }
    const rest = chunk.length - start
    if (skipping || rest === 0) continue
    if (pending + rest > maxBytes) {
      skipping = true
      yield tooLong()
    } else {
      // Copied: the chunk's buffer may be reused by the stream.
      pieces.push(Buffer.from(chunk.subarray(start)))
      pending += rest
    }
  }
  if (!skipping && pending > 0) yield decode(Buffer.concat(pieces, pending))
}

/** Whether a file's first bytes look binary (a NUL byte, as git and grep decide). */
export function looksBinary(head: Buffer): boolean {
  return head.subarray(0, 8192).includes(0)
}
