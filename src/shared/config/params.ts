import {
  denseHidden,
  expertHidden,
  headWidth,
  isMoeLayer,
  kvWidth,
  queryWidth,
  type ModelConfig,
} from './model'

/**
 * Every parameter of a model, by name, in the Hugging Face layout's vocabulary. Matrices
 * are stored [in, out] (x @ W), the layout the fast rank-2 matmul wants; export transposes
 * to the [out, in] of PyTorch. q, k, v and gate, up stay separate matrices: fusing them
 * into one product costs a split (and a concat in the backward) that is slower on wasm
 * than the separate products (measured).
 */
export interface ParamSpec {
  name: string
  shape: number[]
  init: 'normal' | 'normal-scaled' | 'ones' | 'zeros'
  /** AdamW weight decay applies (matrices); not for norms and biases. */
  decay: boolean
  /** Updated by the optimizer. The aux-free router bias is updated by its own rule instead. */
  trainable: boolean
}

/** Names of one weight set's parameters (layers that share weights use the same set). */
export const names = {
  embed: 'embed.weight',
  finalNorm: 'norm.weight',
  lmHead: 'lm_head.weight',
  /** A reward model's scalar head (Hugging Face's *ForSequenceClassification names it so). */
  score: 'score.weight',
  attnNorm: (s: number) => `layers.${s}.attn_norm.weight`,
  q: (s: number) => `layers.${s}.attn.q.weight`,
  k: (s: number) => `layers.${s}.attn.k.weight`,
  v: (s: number) => `layers.${s}.attn.v.weight`,
  qBias: (s: number) => `layers.${s}.attn.q.bias`,
  kBias: (s: number) => `layers.${s}.attn.k.bias`,
  vBias: (s: number) => `layers.${s}.attn.v.bias`,
  qNorm: (s: number) => `layers.${s}.attn.q_norm.weight`,
  kNorm: (s: number) => `layers.${s}.attn.k_norm.weight`,
  attnOut: (s: number) => `layers.${s}.attn.out.weight`,
  ffnNorm: (s: number) => `layers.${s}.ffn_norm.weight`,
  gate: (s: number) => `layers.${s}.mlp.gate.weight`,
  up: (s: number) => `layers.${s}.mlp.up.weight`,
  down: (s: number) => `layers.${s}.mlp.down.weight`,
  router: (s: number) => `layers.${s}.moe.router.weight`,
  routerBias: (s: number) => `layers.${s}.moe.router.bias`,
  expertGate: (s: number, e: number) => `layers.${s}.moe.experts.${e}.gate.weight`,
  expertUp: (s: number, e: number) => `layers.${s}.moe.experts.${e}.up.weight`,
  expertDown: (s: number, e: number) => `layers.${s}.moe.experts.${e}.down.weight`,
  sharedGate: (s: number) => `layers.${s}.moe.shared.gate.weight`,
  sharedUp: (s: number) => `layers.${s}.moe.shared.up.weight`,
  sharedDown: (s: number) => `layers.${s}.moe.shared.down.weight`,
}

export function weightSets(c: ModelConfig): number {
  return c.layers / c.shareGroupSize
}

/** Whether weight set s is MoE (all of its layers are, as the config guarantees). */
export const isMoeSet = (c: ModelConfig, s: number): boolean => isMoeLayer(c, s * c.shareGroupSize)

export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const D = c.width
  const matrix = (name: string, shape: number[], scaled = false): ParamSpec => ({
    name,
    shape,
    init: scaled ? 'normal-scaled' : 'normal',
    decay: true,
    trainable: true,
  })
  const vector = (
    name: string,
    init: 'ones' | 'zeros',
    length = D,
    trainable = true,
  ): ParamSpec => ({
    name,
    shape: [length],
    init,
    decay: false,
    trainable,
  })
  const specs: ParamSpec[] = [matrix(names.embed, [c.vocabSize, D])]
  for (let s = 0; s < weightSets(c); s++) {
    specs.push(vector(names.attnNorm(s), 'ones'))
    specs.push(matrix(names.q(s), [D, queryWidth(c)]))
    specs.push(matrix(names.k(s), [D, kvWidth(c)]))
    specs.push(matrix(names.v(s), [D, kvWidth(c)]))
    if (c.attentionBias) {
      specs.push(vector(names.qBias(s), 'zeros', queryWidth(c)))
      specs.push(vector(names.kBias(s), 'zeros', kvWidth(c)))
      specs.push(vector(names.vBias(s), 'zeros', kvWidth(c)))
    }
    if (c.qkNorm) {
      specs.push(vector(names.qNorm(s), 'ones', headWidth(c)))
      specs.push(vector(names.kNorm(s), 'ones', headWidth(c)))
    }
    specs.push(matrix(names.attnOut(s), [queryWidth(c), D], true))
    specs.push(vector(names.ffnNorm(s), 'ones'))
    if (isMoeSet(c, s) && c.moe) {
      const E = c.moe.routedExperts
      const h = expertHidden(c)
      specs.push(matrix(names.router(s), [D, E]))
      specs.push(vector(names.routerBias(s), 'zeros', E, false))
      for (let e = 0; e < E; e++) {
        specs.push(matrix(names.expertGate(s, e), [D, h]))
        specs.push(matrix(names.expertUp(s, e), [D, h]))
        specs.push(matrix(names.expertDown(s, e), [h, D], true))
      }
      if (c.moe.sharedExperts > 0) {
        // All shared experts see every token, so they are one wider SwiGLU (as DeepSeek-V3 stores them).
        const hs = c.moe.sharedExperts * h
        specs.push(matrix(names.sharedGate(s), [D, hs]))
        specs.push(matrix(names.sharedUp(s), [D, hs]))
        specs.push(matrix(names.sharedDown(s), [hs, D], true))
      }
    } else {
      const H = denseHidden(c)
      specs.push(matrix(names.gate(s), [D, H]))
      specs.push(matrix(names.up(s), [D, H]))
      specs.push(matrix(names.down(s), [H, D], true))
    }
  }
  specs.push(vector(names.finalNorm, 'ones'))
  if (!c.tieEmbeddings) specs.push(matrix(names.lmHead, [D, c.vocabSize]))
  return specs
}

/**
 * A reward model's scalar head, (D, 1): the score of a sequence is its last token's final
 * normed state times this. Not part of paramSpecs: a model has it only while it is trained
 * or used as a reward model.
 */
export const scoreSpec = (c: ModelConfig): ParamSpec => ({
  name: names.score,
  shape: [c.width, 1],
  init: 'normal',
  decay: true,
  trainable: true,
})

export interface ParamCounts {
  /** Trainable parameters (shared layers counted once, tied embeddings once). */
  total: number
  /** Parameters used per token: total minus the routed experts a token does not visit. */
  active: number
  /** Without the token embedding (and untied head): the usual basis for FLOPs estimates. */
  nonEmbedding: number
  /** Every stored number, the router biases included: what weights occupy. */
  stored: number
}

export function countParams(c: ModelConfig): ParamCounts {
  const specs = paramSpecs(c)
  const size = (s: ParamSpec) => s.shape.reduce((a, b) => a * b, 1)
  const total = specs.filter((s) => s.trainable).reduce((n, s) => n + size(s), 0)
  const stored = specs.reduce((n, s) => n + size(s), 0)
  const embedding = c.vocabSize * c.width * (c.tieEmbeddings ? 1 : 2)
  let inactive = 0
  if (c.moe) {
    const perExpert = 3 * c.width * expertHidden(c)
    const moeSets = Array.from({ length: weightSets(c) }, (_, s) => s).filter((s) =>
      isMoeSet(c, s),
    ).length
    inactive = moeSets * (c.moe.routedExperts - c.moe.topK) * perExpert
  }
  return { total, active: total - inactive, nonEmbedding: total - embedding, stored }
}
