import { writeFileSync } from 'node:fs'
import type { tokenizersApi } from '../../../shared/api/tokenizers'
import { UserError } from '../../../shared/errors'
import type { Store } from '../../../store'
import { addChatTokens } from '../../../worker/sft/chat-tokenizer'
import { fromJSON, type Tokenizer } from '../../../worker/tokenizer'
import { checkNewFile } from '../../user-paths'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

function summaries(store: Store | null) {
  return (store?.tokenizers.list() ?? []).map((t) => ({
    id: t.id,
    name: t.name,
    kind: t.kind,
    vocabSize: t.vocabSize,
    datasetId: t.datasetId,
    createdAt: t.createdAt,
    bytesPerToken: (t.stats as { bytesPerToken?: number } | null)?.bytesPerToken ?? null,
  }))
}

export function tokenizersHandlers(ctx: AppContext): GroupHandlers<typeof tokenizersApi> {
  // Parsed tokenizers, by id: building the merge tables is the slow part of a first encode.
  const cache = new Map<number, Tokenizer>()
  const load = (id: number): { store: Store; tokenizer: Tokenizer; json: string } => {
    const store = ctx.project.require()
    const json = store.tokenizers.json(id)
    if (json === null) throw new UserError('not_found', `There is no tokenizer ${id}.`, 'id')
    let tokenizer = cache.get(id)
    if (!tokenizer) cache.set(id, (tokenizer = fromJSON(json)))
    return { store, tokenizer, json }
  }
  ctx.events.subscribe(({ topic }) => {
    if (topic === 'project.changed') cache.clear()
  })
  return {
    'tokenizers.list': () => summaries(ctx.project.current()),
    'tokenizers.encode': ({ id, text }) => {
      const { tokenizer } = load(id)
      const ids = Array.from(tokenizer.encode(text))
      const pieces = ids.map((t) => {
        const bytes = tokenizer.decodeBytes([t])
        // A piece that is part of a multi-byte character is shown as its bytes.
        try {
          return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
        } catch {
          return Array.from(
            bytes,
            (b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
          ).join('')
        }
      })
      return { ids, pieces, bytes: Buffer.byteLength(text) }
    },
    'tokenizers.export': ({ id, destination, overwrite }) => {
      const { json } = load(id)
      const path = checkNewFile(destination, 'destination', { extension: '.json', overwrite })
      writeFileSync(path, json)
      return { path, bytes: Buffer.byteLength(json) }
    },
    'tokenizers.addChatTokens': ({ id, name }) => {
      const store = ctx.project.require()
      const added = store.write(() => addChatTokens(store, id, name))
      return summaries(store).find((t) => t.id === added.id)!
    },
    'tokenizers.delete': ({ id }) => {
      const store = ctx.project.require()
      const used = store.runs.countUsingTokenizer(id)
      if (used > 0)
        throw new UserError(
          'conflict',
          `${used} run${used === 1 ? ' uses' : 's use'} this tokenizer; delete them first.`,
        )
      store.tokenizers.delete(id)
      cache.delete(id)
      return summaries(store)
    },
  }
}
