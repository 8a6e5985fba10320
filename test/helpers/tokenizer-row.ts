import type { Store } from '../../src/store'

/**
 * A tokenizer row for tests about what refers to one (runs, their deletion): its JSON is
 * empty, so nothing can encode with it.
 */
export function placeholderTokenizer(store: Store, name = 'bpe'): number {
  return store.tokenizers.insert({
    name,
    kind: 'bpe',
    vocabSize: 256,
    datasetId: null,
    options: {},
    stats: null,
    json: '{}',
    createdAt: '2026-12-06T00:00:00Z',
  })
}
