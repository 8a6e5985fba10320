import { useApiQuery } from '../api/client'
import type { EmptyStep } from '../components/EmptyState'

/** The chain every model needs, ticked from what the project holds. */
export function usePipelineSteps(): EmptyStep[] {
  const { data: datasets } = useApiQuery('datasets.list', {})
  const hasData = (datasets?.length ?? 0) > 0
  return [
    { label: 'Import a dataset (Data)', done: hasData },
    { label: 'Clean and review it (Data, Review)', done: false },
    { label: 'Train a tokenizer (Tokenizer)', done: false },
    { label: 'Train a model (Train)', done: false },
  ]
}
