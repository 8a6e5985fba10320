import type { Store } from '../../store'
import { UserError } from '../../shared/errors'
import { documentStart, type Tokenizer } from '../tokenizer'
import { corpusInfo, corpusTexts } from '../train/corpus'
import { isValidationDoc } from '../train/encode'
import type { ChatTemplate } from './chat-template'
import type { Example, ExampleProblem } from './examples'
import { parsePreference, type PreferencePair } from './preference'
import type { Rating } from '../../shared/review'

/** A preference as token ids: the prompt with each reply, only the reply trained. */
export interface PairExample {
  chosen: Example
  rejected: Example
}

export interface Pairs {
  train: PairExample[]
  val: PairExample[]
  problems: ExampleProblem[]
  skipped: number
  /** Pairs taken from Evaluate's A/B view (ties are not pairs and are not counted). */
  fromComparisons: number
  /** Pairs made of two differently rated outputs of one prompt (reward models). */
  fromRatings: number
}

const MAX_LISTED = 50
const MIN_FOR_SPLIT = 20
const PAGE = 500

/**
 * The preference pairs a preference run (DPO, SimPO) learns from: its dataset's documents
 * (a JSONL import of prompt/chosen/rejected records) and, when asked, the preferences
 * recorded in Evaluate's A/B view (ties left out; a comparison made with Chat on is a
 * conversation). Each reply with its prompt must fit in `maxTokens`. Bad pairs are counted and listed with their source, the rest used; pairs are
 * held out for validation by a hash of their source, like documents.
 */
export function encodePairs(
  store: Store,
  datasetId: number | null,
  withComparisons: boolean,
  tokenizer: Tokenizer,
  template: ChatTemplate,
  o: { maxTokens: number; valFraction: number; ratings?: boolean; signal?: AbortSignal },
): Pairs {
  const out: Pairs = {
    train: [],
    val: [],
    problems: [],
    skipped: 0,
    fromComparisons: 0,
    fromRatings: 0,
  }
  const skip = (source: string, problem: string) => {
    out.skipped++
    if (out.problems.length < MAX_LISTED) out.problems.push({ source, problem })
  }
  const all: { key: number; source: string; pair: PreferencePair }[] = []
  if (datasetId !== null) {
    const info = corpusInfo(store, datasetId)
    for (const doc of corpusTexts(store, datasetId, info.cleaned)) {
      if (o.signal?.aborted) throw new UserError('cancelled', 'Cancelled.')
      let record: unknown
      try {
        record = JSON.parse(doc.text)
      } catch {
        skip(doc.source, 'Not a preference pair: the document is not a JSON record.')
        continue
      }
      const parsed = parsePreference(record)
      if (parsed.ok) all.push({ key: doc.id, source: doc.source, pair: parsed.pair })
      else skip(doc.source, parsed.problem)
    }
  }
  if (withComparisons) {
    for (let offset = 0; ; offset += PAGE) {
      const page = store.ratings.preferences(PAGE, offset)
      for (const p of page.items) {
        if (p.choice === 'tie') continue
        const [chosen, rejected] =
          p.choice === 'a' ? [p.outputA, p.outputB] : [p.outputB, p.outputA]
        const source = `A/B comparison ${p.id}`
        if (chosen === rejected) {
          skip(source, 'Both outputs are the same text.')
          continue
        }
        const chat = p.sourceA?.settings?.chat === true
        out.fromComparisons++
        // Keys past any document id's range keep the two sources' splits independent.
        all.push({
          key: 0x40000000 + p.id,
          source,
          pair: chat
            ? { format: 'chat', prompt: [{ role: 'user', content: p.prompt }], chosen, rejected }
            : { format: 'text', prompt: p.prompt, chosen, rejected },
        })
      }
      if (offset + PAGE >= page.total) break
    }
  }
  if (o.ratings) {
    const pairs = ratingPairs(store)
    out.fromRatings = pairs.length
    all.push(...pairs)
  }
  const start = documentStart(tokenizer)
  const split = all.length >= MIN_FOR_SPLIT
  for (const { key, source, pair } of all) {
    const chosen = encodeReply(pair, pair.chosen, tokenizer, template, start)
    const rejected = encodeReply(pair, pair.rejected, tokenizer, template, start)
    if (typeof chosen === 'string' || typeof rejected === 'string') {
      skip(source, typeof chosen === 'string' ? chosen : (rejected as string))
      continue
    }
    const tokens = Math.max(chosen.ids.length, rejected.ids.length)
    if (tokens > o.maxTokens) {
      skip(
        source,
        `${tokens} tokens with its longer reply: longer than the run's sequences (${o.maxTokens - 1} tokens and the next; see train.sequenceLength).`,
      )
      continue
    }
    const target = split && isValidationDoc(key, o.valFraction) ? out.val : out.train
    target.push({ chosen, rejected })
  }
  if (out.train.length === 0)
    throw new UserError(
      'invalid_params',
      out.skipped > 0
        ? `None of the ${out.skipped} preference pairs can be used; the first: ${out.problems[0].source}: ${out.problems[0].problem}`
        : withComparisons
          ? 'There are no preference pairs to learn from: import prompt/chosen/rejected records, or choose between two outputs in Evaluate’s A/B view.'
          : 'The dataset has no preference pairs: import JSONL records with prompt, chosen and rejected.',
    )
  if (out.val.length === 0) out.val = out.train
  return out
}

/**
 * Pairs from Evaluate's 1-5 ratings: every two outputs of the same prompt (and the same
 * chat setting) rated differently, the higher-rated one chosen. A rating is a judgement
 * relative to the prompt, so outputs of different prompts are never compared. Keys past
 * the A/B comparisons' range keep the splits independent; a pair is held out by its
 * prompt's first rating, so one prompt's pairs fall on one side.
 */
function ratingPairs(store: Store): { key: number; source: string; pair: PreferencePair }[] {
  const byPrompt = new Map<string, Rating[]>()
  for (let offset = 0; ; offset += PAGE) {
    const page = store.ratings.ratings(PAGE, offset)
    for (const r of page.items) {
      const chat = r.source?.settings?.chat === true
      const key = `${chat ? 'chat' : 'text'}\u0000${r.prompt}`
      const rated = byPrompt.get(key)
      if (rated) rated.push(r)
      else byPrompt.set(key, [r])
    }
    if (offset + PAGE >= page.total) break
  }
  const out: { key: number; source: string; pair: PreferencePair }[] = []
  for (const rated of byPrompt.values()) {
    const first = Math.min(...rated.map((r) => r.id))
    const chat = rated[0].source?.settings?.chat === true
    for (const a of rated)
      for (const b of rated) {
        if (a.score <= b.score || a.output === b.output) continue
        const { prompt } = a
        out.push({
          key: 0x60000000 + first,
          source: `ratings ${a.id} (${a.score}) and ${b.id} (${b.score})`,
          pair: chat
            ? {
                format: 'chat',
                prompt: [{ role: 'user', content: prompt }],
                chosen: a.output,
                rejected: b.output,
              }
            : { format: 'text', prompt, chosen: a.output, rejected: b.output },
        })
      }
  }
  return out
}

/**
 * The prompt followed by one reply, as ids; only the reply (and its end token) trained. A
 * reward model scores what it was trained on in this same form.
 */
export function encodeReply(
  pair: PreferencePair,
  reply: string,
  tokenizer: Tokenizer,
  template: ChatTemplate,
  start: number[],
): Example | string {
  const ids: number[] = [...start]
  const trained: number[] = start.map(() => 0)
  const push = (text: string, train: boolean, allowSpecial: boolean) => {
    for (const id of tokenizer.encode(text, { allowSpecial })) {
      ids.push(id)
      trained.push(train ? 1 : 0)
    }
  }
  if (pair.format === 'text') {
    push(pair.prompt, false, false)
    push(reply, true, false)
    // The reply ends the text: the model learns where a preferred answer stops.
    if (tokenizer.eos !== null) {
      ids.push(tokenizer.eos)
      trained.push(1)
    }
  } else {
    const rendered = template.pieces([...pair.prompt, { role: 'assistant', content: reply }])
    if (!rendered.ok) return rendered.problem
    // Earlier assistant turns are context: only the last reply is compared.
    const last = rendered.pieces.findLastIndex((p) => p.trained)
    rendered.pieces.slice(0, last + 1).forEach((p, i) => push(p.text, i === last, true))
  }
  return { ids: Int32Array.from(ids), trained: Uint8Array.from(trained) }
}
