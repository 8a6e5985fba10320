import * as tf from '@tensorflow/tfjs-core'
import { throwIfBackendFailed } from '../backend-failure'
import { sampleToken } from '../infer/sample'
import { Transformer, type Params } from '../model/model'
import type { Numerics } from '../model/numerics'
import type { Rng } from '../model/rng'
import { trimGpuPool } from '../webgpu/device'
import { paddedRows, type PaddedRows } from './rows'

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
 * Replies to many prompts at once, one token per pass for every unfinished row: the rows
 * (each a prompt and its reply so far, right-padded to the longest) go through the model
 * together and each samples its next token from its last position's logits. A row ends at
 * an end-of-turn token or its token limit. Without a key/value cache a pass recomputes
 * every row's prefix, which costs O(n²) in a reply's length: the trade for sampling a
 * whole batch of rows, all of them different, in one pass per token (RL replies are short).
 */
export async function sampleReplies(
  model: Transformer,
  params: Params,
  prompts: readonly Int32Array[],
  o: RolloutOptions,
): Promise<Reply[]> {
  // A bound on one pass's activations: more rows are sampled a chunk at a time.
  if (prompts.length > MAX_ROWS) {
    const out: Reply[] = []
    for (let first = 0; first < prompts.length; first += MAX_ROWS)
      out.push(...(await sampleReplies(model, params, prompts.slice(first, first + MAX_ROWS), o)))
    return out
  }
  const context = model.config.contextLength
  const V = model.config.vocabSize
  const sequences = prompts.map((p) => Array.from(p))
  const replies: Reply[] = prompts.map(() => ({ ids: [], ended: false }))
  // A sequence is fed while it is at most the context; the last sampled token never is.
  const limit = prompts.map((p) => Math.min(o.maxNewTokens, context + 1 - p.length))
  let active = prompts.map((_, i) => i).filter((i) => limit[i] > 0)
  const sampling = { temperature: o.temperature, topK: 0, topP: 1 }
  while (active.length > 0) {
    // Each row's last real position is where its next token's logits are.
    const rows = paddedRows(active.map((i) => sequences[i]))
    const logits = await lastLogits(model, params, rows, o.numerics)
    const next: number[] = []
    active.forEach((i, r) => {
      const id = sampleToken(logits.subarray(r * V, r * V + o.vocab), sampling, o.rng)
      const reply = replies[i]
      reply.ids.push(id)
      sequences[i].push(id)
      if (o.ends.has(id)) reply.ended = true
      else if (reply.ids.length < limit[i]) next.push(i)
    })
    active = next
  }
  return replies
}

/** The logits (R, V) at each row's last token, from a pass over the padded rows. */
async function lastLogits(
  model: Transformer,
  P: Params,
  { R, L, ids, positions, last }: PaddedRows,
  numerics: Numerics,
): Promise<Float32Array> {
  // Explicit tables (freed below): the model keeps its own per batch shape, and a rollout
  // makes a new shape at every token.
  const tables = model.packedTables(positions, new Int32Array(R * L), R, L)
  let x = tf.tidy(() => model.embed(P, tf.tensor1d(ids, 'int32')))
  try {
    for (let l = 0; l < model.config.layers; l++) {
      const out = await model.blockAsync(P, l, x, R, L, { numerics, dropPath: null, tables })
      out.aux?.dispose()
      if (out.moe instanceof tf.Tensor) out.moe.dispose()
      x.dispose()
      x = out.x
    }
    const logits = tf.tidy(() => model.head(P, tf.gather(x, tf.tensor1d(last, 'int32')), numerics)) // (R, V)
    const values = (await logits.data()) as Float32Array
    logits.dispose()
    throwIfBackendFailed()
    trimGpuPool()
    return values
  } finally {
    x.dispose()
    Transformer.disposeTables(tables)
  }
}
