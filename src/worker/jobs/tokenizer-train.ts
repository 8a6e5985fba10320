import { UserError } from '../../shared/errors'
import type { JobHandler } from '../context'
import { trainBpe, trainChar, type TrainProgress } from '../tokenizer'
import { corpusInfo, corpusTexts } from '../train/corpus'

/** Train a tokenizer on a dataset's corpus (kept, cleaned documents) and store it. */
export const tokenizerTrain: JobHandler<'tokenizer.train'> = async (p, ctx) => {
  const store = ctx.store()
  if (!store.datasets.get(p.datasetId))
    throw new UserError('not_found', `There is no dataset ${p.datasetId}.`, 'datasetId')
  if (store.tokenizers.byName(p.name))
    throw new UserError('conflict', `A tokenizer named "${p.name}" already exists.`, 'name')
  const info = corpusInfo(store, p.datasetId)
  if (info.documents === 0)
    throw new UserError(
      'invalid_params',
      'The dataset has no documents to learn a vocabulary from.',
    )
  if (!info.cleaned)
    ctx.log('warn', 'This dataset has not been cleaned: training on its documents as imported.')
  const texts = (function* () {
    for (const d of corpusTexts(store, p.datasetId, info.cleaned)) yield d.text
  })()
  const started = performance.now()
  const onProgress = (pr: TrainProgress) =>
    pr.phase === 'count'
      ? ctx.progress({
          done: pr.bytes,
          total: info.bytes || null,
          unit: 'bytes',
          message: 'Counting',
        })
      : ctx.progress({
          done: pr.merges,
          total: pr.targetMerges,
          unit: 'merges',
          message: 'Merging',
        })
  const result =
    p.kind === 'char'
      ? await trainChar(texts, { totalBytes: info.bytes }, onProgress, ctx.signal)
      : await trainBpe(
          texts,
          { vocabSize: p.vocabSize, minFrequency: p.minFrequency, totalBytes: info.bytes },
          onProgress,
          ctx.signal,
        )
  ctx.throwIfCancelled()
  const tokenizer = result.tokenizer
  const seconds = (performance.now() - started) / 1000
  // Compression on a sample of the corpus: bytes of text per token.
  let sampleBytes = 0
  let sampleTokens = 0
  for (const d of corpusTexts(store, p.datasetId, info.cleaned)) {
    sampleBytes += Buffer.byteLength(d.text)
    sampleTokens += tokenizer.encode(d.text).length
    if (sampleBytes > 2_000_000) break
  }
  const bytesPerToken = sampleTokens ? sampleBytes / sampleTokens : 0
  const id = store.tokenizers.insert({
    name: p.name,
    kind: p.kind,
    vocabSize: tokenizer.vocabSize,
    datasetId: p.datasetId,
    options: { kind: p.kind, vocabSize: p.vocabSize, minFrequency: p.minFrequency },
    stats: { seconds, bytesPerToken, trainedOnCleaned: info.cleaned, ...(result.stats as object) },
    json: tokenizer.serialize(),
    createdAt: new Date().toISOString(),
  })
  ctx.log(
    'info',
    `Tokenizer "${p.name}": ${tokenizer.vocabSize} ids, ${bytesPerToken.toFixed(2)} bytes per token, trained in ${seconds.toFixed(1)} s.`,
  )
  return { tokenizerId: id, name: p.name, vocabSize: tokenizer.vocabSize, seconds, bytesPerToken }
}
