import { BatchDecoder } from '../infer/batch-decoder'
import { sampleToken } from '../infer/sample'
import type { Transformer, Params } from '../model/model'
import type { Numerics } from '../model/numerics'
import type { Rng } from '../../shared/rng'

export interface RolloutOptions {
  /** The most tokens a reply may have (less where the prompt leaves less of the context). */
  maxNewTokens: number
  /** 0: greedy (evaluation); else softmax(logits / temperature), the whole vocabulary. */
  temperature: number
  /** Tokens that end a reply (the chat template's end of turn); sampled, they end it. */
  ends: ReadonlySet<number>
  /** Ids the tokenizer can write: a model's rows may run past them (padded embeddings). */
  vocab: number
  rng: Rng
  numerics: Numerics
}

/** Rows sampled together at most (an evaluation may ask for prompts × group of them). */
const MAX_ROWS = 512

/** One sampled reply: its tokens (the end-of-turn token last, when it ended). */
export interface Reply {
  ids: number[]
  ended: boolean
}

/**
 * Replies to many prompts at once, one token per pass for every unfinished row, with a
 * key/value cache (infer/batch-decoder.ts): the prompts go through the model once, then
 * each pass feeds every unfinished row its last sampled token, and each samples its next
 * from that pass's logits. A row ends at an end-of-turn token or its token limit, and
 * leaves the batch.
 */
export async function sampleReplies(
  model: Transformer,
  params: Params,
  prompts: readonly Int32Array[],
  o: RolloutOptions,
): Promise<Reply[]> {
  // A bound on one pass's activations and cache: more rows are sampled a chunk at a time.
  if (prompts.length > MAX_ROWS) {
    const out: Reply[] = []
    for (let first = 0; first < prompts.length; first += MAX_ROWS)
      out.push(...(await sampleReplies(model, params, prompts.slice(first, first + MAX_ROWS), o)))
    return out
  }
  const context = model.config.contextLength
  const V = model.config.vocabSize
  const replies: Reply[] = prompts.map(() => ({ ids: [], ended: false }))
  // A sequence is fed while it is at most the context; the last sampled token never is.
  const limit = prompts.map((p) => Math.min(o.maxNewTokens, context + 1 - p.length))
  // The batch's rows, as indices into prompts.
  let active = prompts.map((_, i) => i).filter((i) => limit[i] > 0)
  if (active.length === 0) return replies
  const sampling = { temperature: o.temperature, topK: 0, topP: 1 }
  const decoder = new BatchDecoder(model, params, o.numerics)
  try {
    let logits = await decoder.start(active.map((i) => Array.from(prompts[i])))
    for (;;) {
      const kept: number[] = [] // rows of the batch that go on
      const fed: number[] = []
      active.forEach((i, r) => {
        const id = sampleToken(logits.subarray(r * V, r * V + o.vocab), sampling, o.rng)
        const reply = replies[i]
        reply.ids.push(id)
        if (o.ends.has(id)) reply.ended = true
        else if (reply.ids.length < limit[i]) {
          kept.push(r)
          fed.push(id)
        }
      })
      if (kept.length === 0) return replies
      active = kept.map((r) => active[r])
      decoder.keep(kept)
      logits = await decoder.next(fed)
    }
  } finally {
    decoder.dispose()
  }
}
