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
  const sizes = store.documents.corpusSizes(datasetId)
  const cleaned = sizes.cleaned > 0
  return cleaned
    ? { cleaned, documents: sizes.kept, bytes: sizes.keptBytes }
    : { cleaned, documents: sizes.all, bytes: sizes.allBytes }
}

/** The corpus's texts in document order, read in pages so memory stays flat. */
export function corpusTexts(
  store: Store,
  datasetId: number,
  cleaned: boolean,
): Generator<{ id: number; text: string; source: string }> {
  return store.documents.corpusTexts(datasetId, cleaned ? 'kept' : 'all')
}
