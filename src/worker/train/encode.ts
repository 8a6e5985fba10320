import type { Store } from '../../store'
import { UserError } from '../../shared/errors'
import type { Tokenizer } from '../tokenizer'
import { corpusInfo, corpusTexts } from './corpus'
import type { JobResults } from '../../shared/jobs'

export interface EncodeOptions {
  datasetId: number
  tokenizerId: number
  /** Share of the corpus held out for validation. */
  valFraction: number
  signal?: AbortSignal
  onProgress?: (docs: number, totalDocs: number) => void
  log?: (message: string) => void
}

/** What an encoding job returns: declared with the job kind (shared/jobs.ts). */
export type EncodeResult = JobResults['tokens.encode']

/** Shard size in tokens: a few MB per row keeps SQLite blobs cheap to read and write. */
const SHARD_TOKENS = 1 << 21
/** With fewer documents than this, a document split would be lumpy: split each by position instead. */
const MIN_DOCS_FOR_DOCUMENT_SPLIT = 20

/** Which split a document goes to: a hash of its id, so the choice is stable and unbiased. */
export function isValidationDoc(id: number, fraction: number): boolean {
  let h = Math.imul(id ^ 0x5bd1e995, 0x27d4eb2d)
  h ^= h >>> 15
  h = Math.imul(h, 0x165667b1)
  h ^= h >>> 13
  return (h >>> 0) / 4294967296 < fraction
}

/**
 * Encode a dataset's training corpus once, packed as one stream per split with the
 * tokenizer's end-of-text id between documents, in shards. The split is by document
 * (whole documents held out), or, for a corpus of very few documents (one book), by
 * position: the last `valFraction` of each document, as nanoGPT splits Shakespeare 90/10.
 */
export function encodeDataset(store: Store, tokenizer: Tokenizer, o: EncodeOptions): EncodeResult {
  const info = corpusInfo(store, o.datasetId)
  if (info.documents === 0) {
    throw new UserError(
      'invalid_params',
      info.cleaned
        ? 'The dataset has no kept documents to train on.'
        : 'The dataset has no documents.',
    )
  }
  if (!info.cleaned)
    o.log?.('This dataset has not been cleaned: encoding its documents as imported.')
  const splitBy = info.documents >= MIN_DOCS_FOR_DOCUMENT_SPLIT ? 'document' : 'position'
  const dtype = tokenizer.vocabSize <= 65536 ? 'uint16' : 'uint32'
  const make = (n: number) => (dtype === 'uint16' ? new Uint16Array(n) : new Uint32Array(n))
  const setId = store.tokenSets.create(
    o.datasetId,
    o.tokenizerId,
    o.valFraction,
    dtype,
    new Date().toISOString(),
  )
  const separator = tokenizer.eos ?? tokenizer.bos
  const started = performance.now()
  let bytes = 0
  const splits = {
    train: { buf: make(SHARD_TOKENS), fill: 0, part: 0, tokens: 0, docs: 0 },
    val: { buf: make(SHARD_TOKENS), fill: 0, part: 0, tokens: 0, docs: 0 },
  }
  const flush = (name: 'train' | 'val') => {
    const s = splits[name]
    if (s.fill === 0) return
    store.tokenSets.appendShard(setId, name, s.part++, s.buf.subarray(0, s.fill))
    s.fill = 0
  }
  const push = (name: 'train' | 'val', ids: ArrayLike<number>, from = 0, to = ids.length) => {
    const s = splits[name]
    for (let i = from; i < to; i++) {
      s.buf[s.fill++] = ids[i]!
      if (s.fill === SHARD_TOKENS) flush(name)
    }
    s.tokens += to - from
  }
  try {
    let done = 0
    for (const doc of corpusTexts(store, o.datasetId, info.cleaned)) {
      if (o.signal?.aborted) throw new UserError('cancelled', 'Cancelled.')
      bytes += Buffer.byteLength(doc.text)
      const ids = tokenizer.encode(doc.text)
      if (splitBy === 'document') {
        const name = isValidationDoc(doc.id, o.valFraction) ? 'val' : 'train'
        push(name, ids)
        if (separator !== null) push(name, [separator])
        splits[name].docs++
      } else {
        const cut = Math.floor(ids.length * (1 - o.valFraction))
        push('train', ids, 0, cut)
        push('val', ids, cut)
        if (separator !== null) {
          push('train', [separator])
          push('val', [separator])
        }
        splits.train.docs++
        splits.val.docs++
      }
      if (++done % 200 === 0) o.onProgress?.(done, info.documents)
    }
    flush('train')
    flush('val')
    if (splits.train.tokens < 2 || splits.val.tokens < 2) {
      throw new UserError(
        'invalid_params',
        `Too little text to train on: ${splits.train.tokens} training and ${splits.val.tokens} validation tokens.`,
      )
    }
    store.tokenSets.finish(setId, {
      trainTokens: splits.train.tokens,
      valTokens: splits.val.tokens,
      trainDocs: splits.train.docs,
      valDocs: splits.val.docs,
    })
    o.onProgress?.(info.documents, info.documents)
  } catch (err) {
    store.tokenSets.delete(setId)
    throw err
  }
  const seconds = (performance.now() - started) / 1000
  return {
    tokenSetId: setId,
    trainTokens: splits.train.tokens,
    valTokens: splits.val.tokens,
    trainDocs: splits.train.docs,
    valDocs: splits.val.docs,
    splitBy,
    megabytesPerSecond: bytes / 1e6 / Math.max(seconds, 1e-9),
  }
}
