import type { Store } from '../../src/store'
import { estimateTokens } from '../../src/worker/data/text/view'

/** Documents straight into a dataset, written as an import writes them (no import record). */
export function addDocuments(
  store: Store,
  datasetId: number,
  docs: readonly { source: string; text: string; meta?: Record<string, unknown> }[],
): void {
  store.documents.insert(
    datasetId,
    null,
    docs.map((d) => ({
      source: d.source,
      text: d.text,
      meta: d.meta ?? null,
      charCount: d.text.length,
      tokenEstimate: estimateTokens(d.text),
    })),
  )
}
