import type { Store } from '../../store'

export interface CorpusInfo {
  /** Whether the texts are cleaned and kept documents (false: the dataset was never cleaned). */
  cleaned: boolean
  documents: number
  bytes: number
}

/**
 * What a model trains on: a dataset's kept documents, cleaned; or, for a dataset never
 * cleaned (already-clean text imported as is), every document as imported.
 */
export function corpusInfo(store: Store, datasetId: number): CorpusInfo {
  const row = store.db
    .prepare<
      [number],
      {
        cleaned: number
        kept: number
        kept_bytes: number | null
        all: number
        all_bytes: number | null
      }
    >(
      `SELECT SUM(status <> 'pending') AS cleaned,
              SUM(status = 'kept') AS kept,
              SUM(CASE WHEN status = 'kept' THEN length(CAST(COALESCE(cleaned_text, text) AS BLOB)) END) AS kept_bytes,
              COUNT(*) AS "all", SUM(length(CAST(text AS BLOB))) AS all_bytes
         FROM documents WHERE dataset_id = ?`,
    )
    .get(datasetId)!
  const cleaned = (row.cleaned ?? 0) > 0
  return cleaned
    ? { cleaned, documents: row.kept ?? 0, bytes: row.kept_bytes ?? 0 }
    : { cleaned, documents: row.all, bytes: row.all_bytes ?? 0 }
}

/** The corpus's texts in document order, read in pages so memory stays flat. */
export function* corpusTexts(
  store: Store,
  datasetId: number,
  cleaned: boolean,
): Generator<{ id: number; text: string; source: string }> {
  const page = store.db.prepare<[number, number], { id: number; text: string; source: string }>(
    cleaned
      ? `SELECT id, COALESCE(cleaned_text, text) AS text, source FROM documents
          WHERE dataset_id = ? AND status = 'kept' AND id > ? ORDER BY id LIMIT 500`
      : `SELECT id, text, source FROM documents WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT 500`,
  )
  let after = 0
  for (;;) {
    const rows = page.all(datasetId, after)
    if (rows.length === 0) return
    yield* rows
    after = rows[rows.length - 1].id
  }
}
