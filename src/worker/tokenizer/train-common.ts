import { setImmediate as nextTurn } from 'node:timers/promises'

export type TextSource = Iterable<string> | AsyncIterable<string>

export type TrainProgress =
  | {
      phase: 'count'
      texts: number
      /** UTF-8 bytes read so far. */
      bytes: number
      /** bytes / totalBytes when the total was given, else null. */
      fraction: number | null
      /** Distinct pieces (BPE) or characters (char) so far. */
      types: number
    }
  | { phase: 'merge'; merges: number; targetMerges: number; fraction: number }

export type ProgressCallback = (progress: TrainProgress) => void

/** Texts longer than this are counted in pieces, so progress and cancellation stay responsive. */
const CHUNK = 1 << 20
/** Longest stretch of work between two turns of the event loop (where a cancel message arrives). */
const SLICE_MS = 50
const REPORT_MS = 200

/**
 * Paces a long synchronous computation: every ~50 ms it yields to the event loop, so that a
 * worker can receive its cancel message, checks the signal, and reports progress at most five
 * times a second.
 */
export class Pacer {
  private lastYield = performance.now()
  private lastReport = 0

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly report: () => void,
  ) {
    signal?.throwIfAborted()
  }

  async tick(): Promise<void> {
    // A cancel from the progress callback itself (or any code on this thread) is seen at
    // once: only a worker's message needs the yield below to arrive.
    this.signal?.throwIfAborted()
    const now = performance.now()
    if (now - this.lastYield < SLICE_MS) return
    await nextTurn()
    this.signal?.throwIfAborted()
    this.lastYield = performance.now()
    if (this.lastYield - this.lastReport >= REPORT_MS) this.flush()
  }

  /** Reports now. */
  flush(): void {
    this.lastReport = performance.now()
    this.report()
  }
}

/**
 * Feeds every text to `onChunk`, long ones in pieces of about 1 MiB cut where `cut(text, from)`
 * says (the first safe index at or after `from`), pacing between chunks. Each text or chunk is
 * read once and not kept, so the corpus never has to fit in memory.
 */
export async function forEachChunk(
  texts: TextSource,
  cut: (text: string, from: number) => number,
  pacer: Pacer,
  onChunk: (chunk: string) => void,
  onText: () => void,
): Promise<void> {
  // A string is iterable too, character by character: almost certainly a mistake.
  if (typeof texts === 'string')
    throw new TypeError('Pass a list or stream of texts, not a string.')
  const feed = async (text: string) => {
    if (text.length <= CHUNK) onChunk(text)
    else {
      for (let start = 0; start < text.length;) {
        const end = text.length - start > CHUNK ? cut(text, start + CHUNK) : text.length
        onChunk(text.slice(start, end))
        start = end
        await pacer.tick()
      }
    }
    onText()
    await pacer.tick()
  }
  if (Symbol.asyncIterator in texts) for await (const text of texts) await feed(text)
  else for (const text of texts) await feed(text)
}

/** A cut that keeps surrogate pairs together: any index not inside a pair. */
export function codePointCut(text: string, from: number): number {
  const c = text.charCodeAt(from)
  return c >= 0xdc00 && c <= 0xdfff ? from + 1 : from
}
