import {
  denseHidden,
  expertHidden,
  isMoeLayer,
  kvWidth,
  queryWidth,
  type ModelConfig,
} from './config/model'
import { countParams, paramSpecs, type ParamCounts } from './config/params'
import { adaptedWeights, adapterCounts } from './config/lora'
import {
  grpoSettings,
  isPolicyRun,
  sequenceLengthOf,
  sequencesPerBatch,
  tokensPerStep,
  type TrainConfig,
} from './config/train'

/**
 * What a run will cost, before it starts: parameters, FLOPs, tokens per step and memory.
 * Pure functions of the configs, so the run form recomputes them on every keystroke.
 */

/**
 * Training FLOPs per token: forward + backward ≈ 3 × forward, forward = 2 × (multiply-adds
 * of every matmul a token goes through) + attention's QKᵀ and PV over the context. Counts
 * only the active experts of a MoE layer, so dense and sparse models compare at equal
 * compute (PaLM's appendix B; nanoGPT's estimate_mfu is the same formula for dense models).
 */
export function trainingFlopsPerToken(c: ModelConfig, T = c.contextLength): number {
  const D = c.width
  let macs = 0
  for (let l = 0; l < c.layers; l++) {
    macs += 2 * D * queryWidth(c) + 2 * D * kvWidth(c) // q and out; k and v (narrower with grouped-query attention)
    // QKᵀ and PV against every visible key. Like nanoGPT's estimate, the full context is
    // counted (causal masking halves the useful work, but the kernels compute it all).
    const window = c.attentionWindow === null ? T : Math.min(T, c.attentionWindow + c.globalTokens)
    macs += 2 * window * queryWidth(c)
    if (isMoeLayer(c, l) && c.moe) {
      const h = expertHidden(c)
      macs += D * c.moe.routedExperts // router
      macs += (c.moe.topK + c.moe.sharedExperts) * 3 * D * h
    } else {
      macs += 3 * D * denseHidden(c)
    }
  }
  macs += D * c.vocabSize // output projection
  return 3 * 2 * macs
}

/**
 * Peak tensor memory of one training step, in float32 elements, fitted to tfjs's own
 * accounting on the wasm backend (tf.profile peakBytes; bench/memory.ts measures it), with
 * the backward pass freeing what each node saved and each gradient once used
 * (worker/train/backprop.ts) and rotary embeddings and residual connections keeping
 * nothing of their inputs: per layer 8·N·D + 12·N·F + 3.5·B·H·T², plus 6·N·V for the
 * logits, plus 1·P for gradients (added by the caller). N = tokens in the micro-batch,
 * F = FFN width (all experts a token visits), H = heads. Within 8% of the measured peak on
 * bench:memory's four shapes (dense and MoE, vocabularies 66-2,048, contexts 64-256; the
 * earlier fit held within 7% on twelve). Checkpointed, the blocks' inputs (three copies
 * each: kept, recomputed, and the gradient between blocks) plus the larger of the head's
 * phase (5·N·V) and one block's: within 11%.
 */
function activationFloats(c: ModelConfig, B: number, T: number, checkpointing: boolean): number {
  const N = B * T
  const D = c.width
  const perLayer = Array.from({ length: c.layers }, (_, l) => {
    const moe = isMoeLayer(c, l) && c.moe ? c.moe : null
    const F = moe ? (moe.topK + moe.sharedExperts) * expertHidden(c) : denseHidden(c)
    return 8 * N * D + 12 * N * F + 3.5 * B * c.heads * T * T
  })
  if (!checkpointing) return perLayer.reduce((a, b) => a + b, 0) + 6 * N * c.vocabSize
  return 3 * c.layers * N * D + Math.max(5 * N * c.vocabSize, ...perLayer)
}

export interface MemoryEstimate {
  /** Parameters in the backend (every thread holds a copy). */
  weights: number
  /** LoRA's `int8Base`: the frozen adapted weights, in int8 in host memory, outside the backend. */
  int8Weights: number
  /** Parameters the run trains: all of them, or with LoRA the adapters alone. */
  trained: number
  /** AdamW's two moments (the main thread only). */
  optimizer: number
  /** Peak of one step's activations and gradients on one thread, without and with checkpointing. */
  stepPeak: { full: number; checkpointed: number }
  /** Everything at once over all threads, as configured (bytes). */
  total: number
  /** The busiest thread's total: what must fit in one wasm heap (bytes). */
  perThread: number
}

/** Bytes the run will need, as configured (checkpointing on or off). */
export function memoryEstimate(
  c: ModelConfig,
  t: TrainConfig,
  threads: number,
  counts: ParamCounts = countParams(c),
): MemoryEstimate {
  const B = Math.ceil(sequencesPerBatch(t) / threads) // the largest shard
  // GRPO's KL penalty keeps the starting weights beside the trained ones (LoRA: its own base).
  const reference =
    isPolicyRun(t) && grpoSettings(t).klBeta > 0 && t.lora === null ? 4 * counts.stored : 0
  // LoRA trains its adapters alone; with int8Base the weights they adapt leave the backend
  // for the host at a byte each, and one at a time comes back as float32 while used.
  const lora = t.lora ? adapterCounts(c, t.lora) : null
  const int8 = t.lora?.int8Base ? lora!.adapted : 0
  const trained = lora ? lora.adapters : counts.total
  const weights = 4 * (counts.stored - int8) + (lora ? 4 * lora.adapters : 0) + reference
  const optimizer = 8 * trained
  const grads = 4 * trained
  const expanded = int8 ? 4 * largestAdapted(c, t.lora!) : 0
  const accumulation = t.gradAccumulation > 1 ? grads : 0
  const T = sequenceLengthOf(t, c.contextLength)
  const full = 4 * activationFloats(c, B, T, false) + grads + expanded
  const checkpointed = 4 * activationFloats(c, B, T, true) + grads + expanded
  const step = t.gradientCheckpointing ? checkpointed : full
  const main = weights + optimizer + accumulation + step
  const replica = weights + step
  return {
    weights,
    int8Weights: int8,
    trained,
    optimizer,
    stepPeak: { full, checkpointed },
    total: main + (threads - 1) * replica + int8,
    perThread: main,
  }
}

/**
 * Values of the largest weight LoRA adapts: an int8 base expands one such at a time (the
 * routed experts of a layer at once when they are adapted: they are multiplied as a stack).
 */
function largestAdapted(c: ModelConfig, lora: NonNullable<TrainConfig['lora']>): number {
  const shapes = new Map(paramSpecs(c).map((s) => [s.name, s.shape]))
  const one = Math.max(
    0,
    ...adaptedWeights(c, lora.targets).map((w) => shapes.get(w)!.reduce((a, b) => a * b, 1)),
  )
  const stacked =
    c.moe && lora.targets.includes('experts') ? c.moe.routedExperts * c.width * expertHidden(c) : 0
  return Math.max(one, stacked)
}

export interface RunEstimate {
  params: ParamCounts
  flopsPerToken: number
  tokensPerStep: number
  totalTokens: number
  memory: MemoryEstimate
}

export function estimateRun(c: ModelConfig, t: TrainConfig, threads: number): RunEstimate {
  const params = countParams(c)
  const tokens = tokensPerStep(t, c.contextLength)
  return {
    params,
    flopsPerToken: trainingFlopsPerToken(c),
    tokensPerStep: tokens,
    totalTokens: tokens * t.steps,
    memory: memoryEstimate(c, t, threads, params),
  }
}

/** The wasm backend's heap limit: wasm32 addresses at most 4 GiB. */
export const WASM_HEAP_LIMIT = 4 * 2 ** 30
