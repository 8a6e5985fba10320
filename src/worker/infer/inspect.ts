import type { PromptInspection } from '../../shared/generate'
import type { Tokenizer } from '../tokenizer'
import type { Decoder, Inspection } from './decoder'

const round4 = (x: number) => Math.round(x * 1e4) / 1e4

/**
 * One forward pass over a prompt's first `maxTokens` tokens on a fresh cache, kept for the
 * views: attention probabilities per layer and head (row = query position, each row sums
 * to 1 over the positions it may see) and, per MoE layer, the experts each token went to.
 */
export async function inspectPrompt(
  decoder: Decoder,
  tokenizer: Tokenizer,
  prompt: string,
  maxTokens: number,
): Promise<Omit<PromptInspection, 'runId' | 'checkpointId' | 'step'>> {
  const c = decoder.config
  const ids = Array.from(tokenizer.encode(prompt)).slice(0, Math.min(maxTokens, c.contextLength))
  if (ids.length === 0) throw new Error('The prompt has no tokens.')
  const n = ids.length
  const H = c.heads
  const seen: Inspection = { attention: [], routing: [] }
  decoder.reset()
  await decoder.feed(ids, seen)
  decoder.reset()
  // Each token's own text; a piece of a multi-byte character decodes to U+FFFD.
  const utf8 = new TextDecoder('utf-8')
  const tokens = ids.map((id) => utf8.decode(tokenizer.decodeBytes([id])))
  const attention = seen.attention.map((flat) =>
    Array.from({ length: H }, (_, h) =>
      Array.from({ length: n }, (_, i) =>
        Array.from({ length: n }, (_, j) => round4(flat[(h * n + i) * n + j])),
      ),
    ),
  )
  return {
    tokens,
    layers: c.layers,
    heads: H,
    attention,
    experts: c.moe?.routedExperts ?? 0,
    routing: seen.routing.map((r) => ({
      layer: r.layer,
      tokens: r.tokens.map((t) => ({ experts: t.experts, weights: t.weights.map(round4) })),
    })),
  }
}
