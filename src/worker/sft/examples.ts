import type { Store } from '../../store'
import { UserError } from '../../shared/errors'
import { documentStart, type Tokenizer } from '../tokenizer'
import { corpusInfo, corpusTexts } from '../train/corpus'
import { isValidationDoc } from '../train/encode'
import type { ChatTemplate } from './chat-template'
import { parseConversation } from './conversation'

/** One conversation as token ids, and which of them the model is trained to produce. */
export interface Example {
  ids: Int32Array
  /** Per token: 1 where predicting it is trained (an assistant turn), 0 for the prompt. */
  trained: Uint8Array
  /** The last user turn and the last assistant turn (a GRPO run's question and reference answer). */
  reference?: { question: string; answer: string }
}

/** A document that could not be used, and why (the rest are used). */
export interface ExampleProblem {
  source: string
  problem: string
}

export interface Examples {
  train: Example[]
  val: Example[]
  /** The first problems (up to MAX_LISTED), each with the document's source line. */
  problems: ExampleProblem[]
  /** How many documents were left out in all. */
  skipped: number
  /** Tokens the model is trained to produce, over both splits. */
  trainedTokens: number
}

const MAX_LISTED = 50
/** With fewer conversations than this, every one trains and validation reuses the training set's. */
const MIN_FOR_SPLIT = 20

/**
 * A dataset of conversations (each document one JSON record, as a JSONL import keeps it) as
 * token ids through a chat template: every conversation starts a document (documentStart,
 * as generation does), its pieces are encoded one by one with the special tokens the
 * template writes read as such, and only the assistant turns are trained. Conversations
 * split into training and validation by document, like a pretraining corpus. A
 * conversation that is not one, does not render, or is longer than `maxTokens` is counted
 * and listed with its source, and the rest are used.
 */
export function encodeConversations(
  store: Store,
  datasetId: number,
  tokenizer: Tokenizer,
  template: ChatTemplate,
  o: {
    maxTokens: number
    valFraction: number
    signal?: AbortSignal
    onProgress?: (done: number, total: number) => void
  },
): Examples {
  const info = corpusInfo(store, datasetId)
  const out: Examples = { train: [], val: [], problems: [], skipped: 0, trainedTokens: 0 }
  const skip = (source: string, problem: string) => {
    out.skipped++
    if (out.problems.length < MAX_LISTED) out.problems.push({ source, problem })
  }
  const start = documentStart(tokenizer)
  const split = info.documents >= MIN_FOR_SPLIT
  let done = 0
  for (const doc of corpusTexts(store, datasetId, info.cleaned)) {
    if (o.signal?.aborted) throw new UserError('cancelled', 'Cancelled.')
    if (++done % 200 === 0) o.onProgress?.(done, info.documents)
    let record: unknown
    try {
      record = JSON.parse(doc.text)
    } catch {
      skip(doc.source, 'Not a conversation: the document is not a JSON record.')
      continue
    }
    const parsed = parseConversation(record)
    if (!parsed.ok) {
      skip(doc.source, parsed.problem)
      continue
    }
    const rendered = template.pieces(parsed.conversation.messages)
    if (!rendered.ok) {
      skip(doc.source, rendered.problem)
      continue
    }
    const ids: number[] = [...start]
    const trained: number[] = start.map(() => 0)
    for (const piece of rendered.pieces) {
      const pieceIds = tokenizer.encode(piece.text, { allowSpecial: true })
      for (const id of pieceIds) {
        ids.push(id)
        trained.push(piece.trained ? 1 : 0)
      }
    }
    if (ids.length > o.maxTokens) {
      skip(
        doc.source,
        `${ids.length} tokens: longer than the run's sequences (${o.maxTokens - 1} tokens and the next; see train.sequenceLength).`,
      )
      continue
    }
    const messages = parsed.conversation.messages
    const last = (role: string) => messages.filter((m) => m.role === role).at(-1)?.content ?? ''
    const example: Example = {
      ids: Int32Array.from(ids),
      trained: Uint8Array.from(trained),
      reference: { question: last('user'), answer: last('assistant') },
    }
    out.trainedTokens += trained.reduce((a, b) => a + b, 0)
    if (split && isValidationDoc(doc.id, o.valFraction)) out.val.push(example)
    else out.train.push(example)
  }
  o.onProgress?.(info.documents, info.documents)
  if (out.train.length === 0)
    throw new UserError(
      'invalid_params',
      out.skipped > 0
        ? `None of the dataset's ${out.skipped} documents is a usable conversation; the first: ${out.problems[0].source}: ${out.problems[0].problem}`
        : 'The dataset has no conversations to fine-tune on.',
    )
  // Too few to hold any out: validation measures the training conversations themselves.
  if (out.val.length === 0) out.val = out.train
  return out
}
