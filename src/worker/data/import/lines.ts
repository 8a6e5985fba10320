import { isUtf8 } from 'node:buffer'

export interface Line {
  /** 1-based line number. */
  number: number
  /** The line's text, or null when its bytes are not valid UTF-8. */
  text: string | null
}

/**
 * Split a byte stream into lines ("\n" or "\r\n"), validating each as UTF-8 on its own,
 * so one bad line is reported by number and the rest of the file still reads. Memory is
 * bounded by the longest line.
 */
export async function* readLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Line> {
  let carry: Buffer | null = null
  let number = 0
  const decode = (bytes: Buffer): Line => {
    number++
    let end = bytes.length
    if (end > 0 && bytes[end - 1] === 0x0d) end--
    const body = bytes.subarray(0, end)
    return { number, text: isUtf8(body) ? body.toString('utf8') : null }
  }
  for await (const chunk of chunks) {
    let start = 0
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl)
      yield decode(carry ? Buffer.concat([carry, piece]) : piece)
      carry = null
      start = nl + 1
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start)
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest)
    }
  }
  if (carry && carry.length > 0) yield decode(carry)
}

/** Whether a file's first bytes look binary (a NUL byte, as git and grep decide). */
export function looksBinary(head: Buffer): boolean {
  return head.subarray(0, 8192).includes(0)
}
