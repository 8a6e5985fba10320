import { UserError } from '../../shared/errors'
import type { JobHandler } from '../context'
import { fromJSON } from '../tokenizer'
import { encodeDataset } from '../train/encode'

/** Encode a dataset's corpus with a tokenizer into token shards in the project. */
export const tokensEncode: JobHandler<'tokens.encode'> = (p, ctx) => {
  const store = ctx.store()
  const json = store.tokenizers.json(p.tokenizerId)
  if (!json)
    throw new UserError('not_found', `There is no tokenizer ${p.tokenizerId}.`, 'tokenizerId')
  store.tokenSets.deleteUnfinished()
  return encodeDataset(store, fromJSON(json), {
    datasetId: p.datasetId,
    tokenizerId: p.tokenizerId,
    valFraction: p.valFraction,
    signal: ctx.signal,
    onProgress: (done, total) =>
      ctx.progress({ done, total, unit: 'documents', message: 'Encoding' }),
    log: (m) => ctx.log('warn', m),
  })
}
