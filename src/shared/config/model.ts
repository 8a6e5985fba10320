import { z } from 'zod'

/**
 * The model: one config object with documented defaults, saved with every run (as
 * nanoGPT's GPTConfig and DeepSeek-V3's ModelArgs do). Descriptions are part of the schema,
 * so the run form, the docs and the code say the same thing. A decoder-only transformer
 * with RMSNorm, rotary positions, causal attention and SwiGLU feed-forward; optionally
 * DeepSeekMoE feed-forward, cross-layer sharing and sliding-window attention.
 */

export const moeSchema = z
  .object({
    routedExperts: z
      .int()
      .min(2)
      .max(256)
      .default(8)
      .describe(
        'Routed experts per MoE layer. Fine-grained: many small experts (DeepSeekMoE splits an FFN into m parts).',
      ),
    sharedExperts: z
      .int()
      .min(0)
      .max(16)
      .default(1)
      .describe('Experts every token always uses, outside the router (DeepSeekMoE).'),
    expertHidden: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe(
        "One expert's SwiGLU width. Empty: the dense FFN width divided among the active experts.",
      ),
    topK: z
      .int()
      .min(1)
      .max(16)
      .default(2)
      .describe('Experts each token is routed to (top-k), or the most it may take under top-p.'),
    routing: z
      .enum(['topk', 'topp'])
      .default('topk')
      .describe(
        'topk: a fixed number of experts per token. topp: a token takes experts until their probability passes topP.',
      ),
    topP: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.4)
      .describe('Probability a token must cover under top-p routing (0.4 in the paper).'),
    affinity: z
      .enum(['softmax', 'sigmoid'])
      .default('softmax')
      .describe(
        'Router scores: a softmax over experts (Switch, DeepSeekMoE) or one sigmoid per expert (DeepSeek-V3).',
      ),
    normalizeWeights: z
      .boolean()
      .default(true)
      .describe("Rescale the chosen experts' weights to sum to 1 (DeepSeek-V3 does, for sigmoid)."),
    routeScale: z
      .number()
      .positive()
      .default(1)
      .describe("Multiplier of the combined routed output (DeepSeek-V3's routed_scaling_factor)."),
    balance: z
      .enum(['aux', 'aux-free', 'none'])
      .default('aux')
      .describe(
        "Load balancing: Switch's auxiliary loss, DeepSeek-V3's auxiliary-loss-free bias update, or none.",
      ),
    auxLossWeight: z
      .number()
      .min(0)
      .default(0.01)
      .describe('α of the Switch auxiliary loss (1e-2 in the paper).'),
    biasUpdateRate: z
      .number()
      .min(0)
      .default(0.001)
      .describe('γ of the auxiliary-loss-free bias update (0.001 in DeepSeek-V3).'),
    sequenceAuxWeight: z
      .number()
      .min(0)
      .default(0.0001)
      .describe(
        "α of DeepSeek-V3's small sequence-wise balance loss, kept with aux-free balancing.",
      ),
    entropyLossWeight: z
      .number()
      .min(0)
      .default(0.001)
      .describe(
        'Weight of the routing-entropy loss that keeps top-p routing from spreading to many experts.',
      ),
    capacityFactor: z
      .number()
      .min(1)
      .nullable()
      .default(1.25)
      .describe(
        'Expert capacity = tokens·k/experts × this; tokens over it skip the expert (counted). Empty: no limit.',
      ),
    firstDenseLayers: z
      .int()
      .min(0)
      .default(1)
      .describe(
        'The first layers keep a dense FFN (DeepSeek-V3 uses 3): early layers route poorly.',
      ),
  })
  .strict()

/**
 * Llama 3's RoPE scaling (rope_type "llama3"): rotary frequencies whose wavelength exceeds
 * originalContext / lowFreqFactor are divided by `factor`, those shorter than
 * originalContext / highFreqFactor are kept, and those between are interpolated smoothly.
 */
export const ropeScalingSchema = z
  .object({
    factor: z.number().positive().describe('Divisor of the low frequencies.'),
    lowFreqFactor: z.number().positive(),
    highFreqFactor: z.number().positive(),
    originalContext: z
      .int()
      .positive()
      .describe('The context length the model was first trained at.'),
  })
  .strict()
  .refine((r) => r.highFreqFactor > r.lowFreqFactor, {
    message: 'highFreqFactor must exceed lowFreqFactor',
  })
export type RopeScaling = z.output<typeof ropeScalingSchema>

export const modelConfigSchema = z
  .object({
    vocabSize: z
      .int()
      .min(2)
      .max(262_144)
      .describe('Token ids, special tokens included (set by the tokenizer).'),
    contextLength: z
      .int()
      .min(2)
      .max(8192)
      .default(256)
      .describe('Tokens per training sequence and the longest context the model sees.'),
    layers: z.int().min(1).max(128).default(4).describe('Transformer blocks.'),
    heads: z
      .int()
      .min(1)
      .max(128)
      .default(4)
      .describe('Attention heads; the width must divide evenly among them.'),
    kvHeads: z
      .int()
      .min(1)
      .max(128)
      .nullable()
      .default(null)
      .describe(
        'Key/value heads (grouped-query attention): each serves heads ÷ kvHeads query heads, shrinking the k and v projections and the decoding cache. Empty: one per query head.',
      ),
    width: z.int().min(8).max(16_384).default(128).describe('Residual stream width (d_model).'),
    headDim: z
      .int()
      .min(2)
      .max(1024)
      .nullable()
      .default(null)
      .describe(
        'Width of each attention head, when it is not width ÷ heads (Qwen3 uses wider heads). Empty: width ÷ heads.',
      ),
    ffnHidden: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe(
        "Dense SwiGLU hidden width. Empty: ≈ 8/3 × width, rounded up to a multiple of 16 (Llama's choice).",
      ),
    normEps: z.number().positive().default(1e-5).describe('ε of RMSNorm.'),
    ropeTheta: z
      .number()
      .positive()
      .default(10_000)
      .describe('Base θ of the rotary position embedding.'),
    ropeScaling: ropeScalingSchema
      .nullable()
      .default(null)
      .describe(
        "Llama 3's RoPE frequency scaling, for models trained with it (set by import). Empty: none.",
      ),
    attentionBias: z
      .boolean()
      .default(false)
      .describe('The q, k and v projections add a learned bias (as Qwen2 does).'),
    qkNorm: z
      .boolean()
      .default(false)
      .describe(
        "RMSNorm on each head's queries and keys before the rotation (Qwen3's QK-norm): steadier attention logits.",
      ),
    tieEmbeddings: z
      .boolean()
      .default(true)
      .describe(
        'Share the token embedding with the output projection (saves vocab × width parameters).',
      ),
    initStd: z
      .number()
      .positive()
      .default(0.02)
      .describe(
        'Std of the normal initialization; residual projections are scaled by 1/√(2·layers) (GPT-2).',
      ),
    shareGroupSize: z
      .int()
      .min(1)
      .default(1)
      .describe(
        'Cross-layer sharing: groups of this many consecutive layers share one set of weights. 1: none.',
      ),
    attentionWindow: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Sliding-window attention: each token sees this many previous tokens. Empty: full causal attention.',
      ),
    globalTokens: z
      .int()
      .min(0)
      .default(0)
      .describe('With a window: the first n positions stay visible to every later token.'),
    moe: moeSchema
      .nullable()
      .default(null)
      .describe('Mixture of experts in the feed-forward blocks. Empty: a dense model.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.headDim === null && c.width % c.heads !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['heads'],
        message: `width ${c.width} is not divisible by ${c.heads} heads`,
      })
    }
    if (c.kvHeads !== null && c.heads % c.kvHeads !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['kvHeads'],
        message: `${c.heads} heads do not split into ${c.kvHeads} key/value groups`,
      })
    }
    if (headWidth(c) % 2 !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: [c.headDim === null ? 'heads' : 'headDim'],
        message: `rotary positions need an even head width, not ${headWidth(c)}`,
      })
    }
    if (c.layers % c.shareGroupSize !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['shareGroupSize'],
        message: `${c.layers} layers do not split into groups of ${c.shareGroupSize}`,
      })
    }
    if (c.moe) {
      if (c.moe.topK > c.moe.routedExperts) {
        ctx.addIssue({
          code: 'custom',
          path: ['moe', 'topK'],
          message: `topK ${c.moe.topK} exceeds the ${c.moe.routedExperts} routed experts`,
        })
      }
      if (c.moe.firstDenseLayers >= c.layers) {
        ctx.addIssue({
          code: 'custom',
          path: ['moe', 'firstDenseLayers'],
          message: 'every layer would be dense: lower firstDenseLayers or drop moe',
        })
      }
      if (c.moe.routing === 'topp' && c.moe.affinity !== 'softmax') {
        ctx.addIssue({
          code: 'custom',
          path: ['moe', 'affinity'],
          message: 'top-p routing needs softmax affinities (probabilities that sum to 1)',
        })
      }
      if (c.shareGroupSize > 1 && c.moe.firstDenseLayers % c.shareGroupSize !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['moe', 'firstDenseLayers'],
          message: 'with layer sharing, dense layers must fill whole groups',
        })
      }
    }
  })

export type ModelConfigInput = z.input<typeof modelConfigSchema>
export type ModelConfig = z.output<typeof modelConfigSchema>
export type MoeConfig = z.output<typeof moeSchema>

/* Derived sizes, used by the engine, the estimates and the run form. */

/** Width of one attention head: headDim, or width ÷ heads. */
export function headWidth(c: Pick<ModelConfig, 'headDim' | 'width' | 'heads'>): number {
  return c.headDim ?? c.width / c.heads
}

/** Width of the queries (and of the attention output before o): heads × head width. */
export const queryWidth = (c: ModelConfig): number => c.heads * headWidth(c)

/** Key/value heads: kvHeads, or one per query head. */
export const kvHeadsOf = (c: ModelConfig): number => c.kvHeads ?? c.heads

/** Width of the keys (and values): kvHeads × head width. */
export const kvWidth = (c: ModelConfig): number => kvHeadsOf(c) * headWidth(c)

/** Llama's SwiGLU width: 2/3 of 4·width, rounded up to a multiple of 16. */
export function denseHidden(c: ModelConfig): number {
  return c.ffnHidden ?? Math.ceil((8 * c.width) / 3 / 16) * 16
}

/** One routed expert's hidden width: by default the dense width shared among the active experts. */
export function expertHidden(c: ModelConfig): number {
  if (!c.moe) return 0
  return c.moe.expertHidden ?? Math.max(16, Math.ceil(denseHidden(c) / c.moe.topK / 16) * 16)
}

export const isMoeLayer = (c: ModelConfig, layer: number): boolean =>
  c.moe !== null && layer >= c.moe.firstDenseLayers

/** Index of the weight set a layer uses (layers in one sharing group use the same one). */
export const weightSetOf = (c: ModelConfig, layer: number): number =>
  Math.floor(layer / c.shareGroupSize)

/**
 * The config a model runs inference with (generation, evaluation, a teacher, a reference):
 * no MoE capacity limit, which is a training-time device; every token gets the experts it
 * chose, as in DeepSeek-V3's inference.
 */
export function inferenceConfig(c: ModelConfig): ModelConfig {
  return c.moe && c.moe.capacityFactor !== null
    ? { ...c, moe: { ...c.moe, capacityFactor: null } }
    : c
}
