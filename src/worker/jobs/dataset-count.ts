import { UserError } from '../../shared/errors'
import type { JobHandler } from '../context'

const BATCH = 2000

/** Count a dataset's documents and characters, reading in batches so memory stays flat. */
export const datasetCount: JobHandler<'dataset.count'> = async ({ datasetId }, ctx) => {
  const store = ctx.store()
  const dataset = store.datasets.get(datasetId)
  if (!dataset)
    throw new UserError('not_found', `There is no dataset with id ${datasetId}.`, 'datasetId')
  const total = dataset.documents
  let documents = 0
  let characters = 0
  ctx.progress({ done: 0, total, unit: 'documents' })
  for (const batch of store.documents.texts(datasetId, BATCH)) {
    ctx.throwIfCancelled()
    for (const doc of batch) characters += doc.text.length
    documents += batch.length
    ctx.progress({ done: documents, total, unit: 'documents' })
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { datasetId, documents, characters }
}
