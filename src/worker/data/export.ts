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
 * Write a dataset's documents as JSON Lines, one object per document, streamed. The
 * file appears complete or not at all: it is written beside the target and renamed.
 */
export async function exportJsonl(
  store: Store,
  datasetId: number,
  status: ExportStatus,
  out: string,
  onProgress: (documents: number) => void,
  throwIfCancelled: () => void,
): Promise<{ path: string; documents: number }> {
  const partial = `${out}.partial`
  const stream = createWriteStream(partial)
  let documents = 0
  try {
    for (const row of store.documents.exportRows(datasetId, status)) {
      const record: ExportedRecord = {
        id: row.id,
        source: row.source,
        text: row.cleaned_text ?? row.text,
        status: row.status,
        reasons: row.reasons ? (JSON.parse(row.reasons) as unknown[]) : [],
        language: row.language,
        quality_score: row.quality_score,
        meta: row.meta ? (JSON.parse(row.meta) as Record<string, unknown>) : null,
      }
      if (!stream.write(`${JSON.stringify(record)}\n`)) await once(stream, 'drain')
      if (++documents % 1000 === 0) {
        throwIfCancelled()
        onProgress(documents)
      }
    }
    stream.end()
    await once(stream, 'finish')
    await rename(partial, out)
    onProgress(documents)
    return { path: out, documents }
  } catch (err) {
    stream.destroy()
    await rm(partial, { force: true })
    throw err
  }
}
