import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { once } from 'node:events'
import type { Store } from '../../store'

export type ExportStatus = 'kept' | 'removed' | 'review' | 'all'

export interface ExportedRecord {
  id: number
  source: string
  /** The cleaned text (the original when the dataset has not been cleaned yet). */
  text: string
  status: string
  reasons: unknown[]
  language: string | null
  quality_score: number | null
  meta: Record<string, unknown> | null
}

/**
 * Write a dataset's documents as JSON Lines, one object per document (see writeJsonl).
 */
export async function exportJsonl(
  store: Store,
  datasetId: number,
  status: ExportStatus,
  out: string,
  onProgress: (documents: number) => void,
  throwIfCancelled: () => void,
): Promise<{ path: string; documents: number }> {
  function* records(): Generator<ExportedRecord> {
    for (const row of store.documents.exportRows(datasetId, status)) {
      yield {
        id: row.id,
        source: row.source,
        text: row.cleaned_text ?? row.text,
        status: row.status,
        reasons: row.reasons ? (JSON.parse(row.reasons) as unknown[]) : [],
        language: row.language,
        quality_score: row.quality_score,
        meta: row.meta ? (JSON.parse(row.meta) as Record<string, unknown>) : null,
      }
    }
  }
  const documents = await writeJsonl(out, records(), onProgress, throwIfCancelled)
  return { path: out, documents }
}

/**
 * Write records as JSON Lines, streamed, one object per line. The file appears complete
 * or not at all: it is written beside the target and renamed. Returns the records written.
 */
export async function writeJsonl(
  out: string,
  records: Iterable<unknown>,
  onProgress: (records: number) => void,
  throwIfCancelled: () => void,
): Promise<number> {
  const partial = `${out}.partial`
  const stream = createWriteStream(partial)
  let n = 0
  try {
    for (const record of records) {
      if (!stream.write(`${JSON.stringify(record)}\n`)) await once(stream, 'drain')
      if (++n % 1000 === 0) {
        throwIfCancelled()
        onProgress(n)
      }
    }
    stream.end()
    await once(stream, 'finish')
    await rename(partial, out)
    onProgress(n)
    return n
  } catch (err) {
    stream.destroy()
    await rm(partial, { force: true })
    throw err
  }
}
