import { UserError } from '../../shared/errors'
import {
  denseHidden,
  expertHidden,
  headWidth,
  isMoeLayer,
  kvHeadsOf,
  modelConfigSchema,
  weightSetOf,
  type ModelConfig,
} from '../model/config'
import { names, paramSpecs, scoreSpec } from '../model/params'

/**
 * Frugal's parameters in the Hugging Face layout, and back.
 *
 * Frugal stores matrices as [in, out] (x·W, the fast product on wasm); Hugging Face's
 * Linear weights are [out, in], so every projection is transposed. Names follow Llama
 * (`model.layers.N.self_attn.q_proj.weight`, ...); MoE layers follow DeepSeekMoE
 * (`mlp.gate.weight` for the router, `mlp.experts.E.*`, `mlp.shared_experts.*`, and
 * DeepSeek-V3's `mlp.gate.e_score_correction_bias` for the auxiliary-loss-free bias).
 * Layers that share weights in Frugal are written once per layer, so standard loaders
 * see an ordinary model; Frugal reads them back as one set.
 */

/**
 * The model's head: the vocabulary's (`*ForCausalLM`), or a reward model's scalar score
 * (`*ForSequenceClassification` with one label: `score.weight`, [1, width], read at the
 * last token).
 */
export type HfHead = 'lm' | 'score'

export interface HfTensor {
  shape: number[]
  values: Float32Array
}

/** Transpose a row-major (rows, cols) matrix. */
export function transpose(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = v[r * cols + c]
  return out
}

/** Frugal's name for a tensor at layer l (weight set s) -> the Hugging Face name, per layer. */
function layerNames(c: ModelConfig, l: number): [string, string][] {
  const s = weightSetOf(c, l)
  const p = `model.layers.${l}`
  const pairs: [string, string][] = [
    [names.attnNorm(s), `${p}.input_layernorm.weight`],
    [names.q(s), `${p}.self_attn.q_proj.weight`],
    [names.k(s), `${p}.self_attn.k_proj.weight`],
    [names.v(s), `${p}.self_attn.v_proj.weight`],
    ...(c.attentionBias
      ? ([
          [names.qBias(s), `${p}.self_attn.q_proj.bias`],
          [names.kBias(s), `${p}.self_attn.k_proj.bias`],
          [names.vBias(s), `${p}.self_attn.v_proj.bias`],
        ] as [string, string][])
      : []),
    ...(c.qkNorm
      ? ([
          [names.qNorm(s), `${p}.self_attn.q_norm.weight`],
          [names.kNorm(s), `${p}.self_attn.k_norm.weight`],
        ] as [string, string][])
      : []),
    [names.attnOut(s), `${p}.self_attn.o_proj.weight`],
    [names.ffnNorm(s), `${p}.post_attention_layernorm.weight`],
  ]
  if (isMoeLayer(c, l) && c.moe) {
    pairs.push([names.router(s), `${p}.mlp.gate.weight`])
    if (c.moe.balance === 'aux-free')
      pairs.push([names.routerBias(s), `${p}.mlp.gate.e_score_correction_bias`])
    for (let e = 0; e < c.moe.routedExperts; e++) {
      pairs.push([names.expertGate(s, e), `${p}.mlp.experts.${e}.gate_proj.weight`])
      pairs.push([names.expertUp(s, e), `${p}.mlp.experts.${e}.up_proj.weight`])
      pairs.push([names.expertDown(s, e), `${p}.mlp.experts.${e}.down_proj.weight`])
    }
    if (c.moe.sharedExperts > 0) {
      pairs.push([names.sharedGate(s), `${p}.mlp.shared_experts.gate_proj.weight`])
      pairs.push([names.sharedUp(s), `${p}.mlp.shared_experts.up_proj.weight`])
      pairs.push([names.sharedDown(s), `${p}.mlp.shared_experts.down_proj.weight`])
    }
  } else {
    pairs.push([names.gate(s), `${p}.mlp.gate_proj.weight`])
    pairs.push([names.up(s), `${p}.mlp.up_proj.weight`])
    pairs.push([names.down(s), `${p}.mlp.down_proj.weight`])
  }
  return pairs
}

/**
 * Every (Frugal name, Hugging Face name) pair; a shared weight set appears once per layer.
 * A reward model (head 'score') has its score head and no vocabulary head.
 */
export function hfNames(c: ModelConfig, head: HfHead = 'lm'): [string, string][] {
  const pairs: [string, string][] = [[names.embed, 'model.embed_tokens.weight']]
  for (let l = 0; l < c.layers; l++) pairs.push(...layerNames(c, l))
  pairs.push([names.finalNorm, 'model.norm.weight'])
  if (head === 'score') pairs.push([names.score, 'score.weight'])
  else if (!c.tieEmbeddings) pairs.push([names.lmHead, 'lm_head.weight'])
  return pairs
}

/** Frugal's parameter shapes, the score head's too for a reward model. */
function shapesOf(c: ModelConfig, head: HfHead): Map<string, readonly number[]> {
  const specs = head === 'score' ? [...paramSpecs(c), scoreSpec(c)] : paramSpecs(c)
  return new Map(specs.map((s) => [s.name, s.shape]))
}

/** Frugal's parameters as Hugging Face tensors ([out, in] matrices). */
export function toHfTensors(
  c: ModelConfig,
  params: ReadonlyMap<string, Float32Array>,
  head: HfHead = 'lm',
): Map<string, HfTensor> {
  const shapes = shapesOf(c, head)
  const out = new Map<string, HfTensor>()
  for (const [ours, theirs] of hfNames(c, head)) {
    const values = params.get(ours)
    const shape = shapes.get(ours)
    if (!values || !shape) throw new Error(`The checkpoint has no parameter ${ours}.`)
    // The embedding is [vocab, width] in both layouts (a lookup table, not a projection).
    if (shape.length === 2 && ours !== names.embed)
      out.set(theirs, {
        shape: [shape[1], shape[0]],
        values: transpose(values, shape[0], shape[1]),
      })
    else out.set(theirs, { shape: [...shape], values })
  }
  // Llama-family attention_bias (how a MoE model with biases is written) biases o too: zeros.
  if (hfArchitecture(c).attentionBiasField)
    for (let l = 0; l < c.layers; l++)
      out.set(`model.layers.${l}.self_attn.o_proj.bias`, {
        shape: [c.width],
        values: new Float32Array(c.width),
      })
  return out
}

/** An o_proj bias (Llama's attention_bias) that Frugal can drop: all zeros. */
const isZeroOutputBias = (name: string, t: HfTensor) =>
  /\.self_attn\.o_proj\.bias$/.test(name) && t.values.every((x) => x === 0)

/** Hugging Face tensors back to Frugal's parameters (shared sets read from their first layer). */
export function fromHfTensors(
  c: ModelConfig,
  tensors: ReadonlyMap<string, HfTensor>,
  head: HfHead = 'lm',
): Map<string, Float32Array> {
  const shapes = shapesOf(c, head)
  const out = new Map<string, Float32Array>()
  for (const [ours, theirs] of hfNames(c, head)) {
    if (out.has(ours)) continue
    const shape = shapes.get(ours)!
    const t = tensors.get(theirs)
    if (!t) {
      // A router bias absent from a file is zero (only aux-free balancing learns one).
      if (ours.endsWith('router.bias')) {
        out.set(ours, new Float32Array(shape[0]))
        continue
      }
      throw new UserError('invalid_params', `The model file has no tensor ${theirs}.`, 'path')
    }
    const expected = shape.length === 2 && ours !== names.embed ? [shape[1], shape[0]] : shape
    if (t.shape.join(',') !== expected.join(','))
      throw new UserError(
        'invalid_params',
        `${theirs} has shape [${t.shape.join(', ')}], but the config needs [${expected.join(', ')}].`,
        'path',
      )
    out.set(
      ours,
      shape.length === 2 && ours !== names.embed
        ? transpose(t.values, shape[1], shape[0])
        : t.values,
    )
  }
  // Frugal keeps a router bias for every MoE layer, whatever the balancing.
  for (const [name, shape] of shapes)
    if (!out.has(name) && name.endsWith('router.bias')) out.set(name, new Float32Array(shape[0]))
  // A tensor the config does not explain would be silently dropped, changing the model.
  const read = new Set(hfNames(c, head).map(([, theirs]) => theirs))
  for (const [name, t] of tensors)
    if (!read.has(name) && !name.endsWith('e_score_correction_bias') && !isZeroOutputBias(name, t))
      throw new UserError(
        'invalid_params',
        `The model file has a tensor ${name} that Frugal's model has no place for, so it cannot run this model the same way.`,
        'path',
      )
  return out
}

export interface SpecialTokenIds {
  bos: number | null
  eos: number | null
  pad: number | null
}

/**
 * config.json: Llama's fields for the dense architecture (Mistral's `sliding_window` when
 * attention is windowed), DeepSeekMoE's for a mixture of experts, and `frugal_*` fields
 * for what neither has (see docs/MODEL.md). `frugal_config` carries Frugal's own config, so
 * reading the file back is exact.
 */
export function hfConfig(
  c: ModelConfig,
  ids: SpecialTokenIds,
  dtype: string,
  head: HfHead = 'lm',
): Record<string, unknown> {
  const windowed = c.attentionWindow !== null
  const arch = hfArchitecture(c, head)
  const base: Record<string, unknown> = {
    architectures: [arch.className],
    model_type: arch.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.width,
    intermediate_size: denseHidden(c),
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: kvHeadsOf(c),
    head_dim: headWidth(c),
    max_position_embeddings: c.contextLength,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling
      ? {
          rope_type: 'llama3',
          factor: c.ropeScaling.factor,
          low_freq_factor: c.ropeScaling.lowFreqFactor,
          high_freq_factor: c.ropeScaling.highFreqFactor,
          original_max_position_embeddings: c.ropeScaling.originalContext,
        }
      : null,
    hidden_act: 'silu',
    attention_bias: arch.attentionBiasField,
    attention_dropout: 0,
    mlp_bias: false,
    tie_word_embeddings: c.tieEmbeddings,
    initializer_range: c.initStd,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    pad_token_id: ids.pad,
    torch_dtype: dtype,
    use_cache: true,
    // One label: the reward model's score, as TRL's reward models are saved.
    ...(head === 'score' ? { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } } : {}),
  }
  if (arch.modelType === 'qwen2' || arch.modelType === 'qwen3') {
    // Qwen2's q, k and v biases are part of the architecture, not a field; the window
    // covers the layers from max_window_layers on: all of them here.
    if (arch.modelType === 'qwen2') delete base.attention_bias
    Object.assign(base, {
      use_sliding_window: windowed,
      sliding_window: c.attentionWindow,
      max_window_layers: 0,
    })
  } else if (windowed) base.sliding_window = c.attentionWindow
  if (c.moe) {
    Object.assign(base, {
      n_routed_experts: c.moe.routedExperts,
      n_shared_experts: c.moe.sharedExperts,
      num_experts_per_tok: c.moe.topK,
      moe_intermediate_size: expertHidden(c),
      first_k_dense_replace: c.moe.firstDenseLayers,
      moe_layer_freq: 1,
      scoring_func: c.moe.affinity,
      norm_topk_prob: c.moe.normalizeWeights,
      routed_scaling_factor: c.moe.routeScale,
      topk_method: c.moe.balance === 'aux-free' ? 'noaux_tc' : 'greedy',
      aux_loss_alpha: c.moe.balance === 'aux' ? c.moe.auxLossWeight : 0,
    })
    if (c.moe.routing === 'topp')
      Object.assign(base, { frugal_routing: 'top_p', frugal_top_p: c.moe.topP })
  }
  if (c.shareGroupSize > 1) base.frugal_share_group_size = c.shareGroupSize
  if (c.globalTokens > 0) base.frugal_global_tokens = c.globalTokens
  base.frugal_config = c
  return base
}

/**
 * The Hugging Face architecture a config is written as: Llama for a dense model, Mistral
 * when attention is windowed, Qwen2 when q, k and v have biases, DeepSeekMoE for a
 * mixture of experts (with Llama's attention_bias, which also biases o: written as zeros).
 * A reward model is the same family's `*ForSequenceClassification` (dense models only:
 * transformers has no such class for DeepSeekMoE).
 */
export function hfArchitecture(
  c: ModelConfig,
  head: HfHead = 'lm',
): {
  className: string
  modelType: string
  attentionBiasField: boolean
} {
  const causal = causalArchitecture(c)
  if (head === 'lm') return causal
  if (c.moe)
    throw new UserError(
      'invalid_params',
      'A mixture-of-experts reward model cannot be exported: transformers has no sequence-classification class for DeepSeekMoE. Train the reward model from a dense model to export it.',
      'runId',
    )
  return {
    ...causal,
    className: causal.className.replace('ForCausalLM', 'ForSequenceClassification'),
  }
}

function causalArchitecture(c: ModelConfig): {
  className: string
  modelType: string
  attentionBiasField: boolean
} {
  if (c.moe)
    return {
      className: 'DeepseekForCausalLM',
      modelType: 'deepseek',
      attentionBiasField: c.attentionBias,
    }
  // Qwen3's attention_bias, like Llama's, also biases o.
  if (c.qkNorm)
    return {
      className: 'Qwen3ForCausalLM',
      modelType: 'qwen3',
      attentionBiasField: c.attentionBias,
    }
  if (c.attentionBias)
    return { className: 'Qwen2ForCausalLM', modelType: 'qwen2', attentionBiasField: false }
  if (c.attentionWindow !== null)
    return { className: 'MistralForCausalLM', modelType: 'mistral', attentionBiasField: false }
  return { className: 'LlamaForCausalLM', modelType: 'llama', attentionBiasField: false }
}

/**
 * The head a config.json's architecture has: a causal language model's, or a reward
 * model's single score (`*ForSequenceClassification` with one label). A classifier with
 * several labels is refused: Frugal has no place for its head.
 */
export function hfHeadOf(json: Record<string, unknown>): HfHead {
  const arch = Array.isArray(json.architectures) ? (json.architectures[0] as unknown) : undefined
  if (typeof arch !== 'string' || !arch.endsWith('ForSequenceClassification')) return 'lm'
  const labels =
    typeof json.id2label === 'object' && json.id2label !== null
      ? Object.keys(json.id2label).length
      : typeof json.num_labels === 'number'
        ? json.num_labels
        : 2 // transformers' default
  if (labels !== 1)
    throw new UserError(
      'invalid_params',
      `Frugal cannot load this model: ${arch} with ${labels} labels (id2label) is a classifier, and Frugal reads reward models, which give one score.`,
      'path',
    )
  return 'score'
}

/** model_type values Frugal reads: Llama's block and the variations it implements exactly. */
const readableModelTypes = ['llama', 'mistral', 'qwen2', 'qwen3', 'deepseek'] as const

/**
 * A Frugal model config from config.json: exact when Frugal wrote it, otherwise from the
 * fields of Llama (Llama 2/3, SmolLM2), Mistral, Qwen2 (Qwen2.5) and DeepSeekMoE, refusing
 * what Frugal cannot run the same way, naming the field.
 */
export function configFromHf(json: Record<string, unknown>): ModelConfig {
  if (json.frugal_config) return modelConfigSchema.parse(json.frugal_config)
  const refuse = (why: string) =>
    new UserError('invalid_params', `Frugal cannot load this model: ${why}.`, 'path')
  const n = (k: string) => json[k] as number | undefined
  const modelType = json.model_type
  if (!readableModelTypes.includes(modelType as (typeof readableModelTypes)[number]))
    throw refuse(
      `config.json's model_type is ${JSON.stringify(modelType ?? null)}, and Frugal runs ${readableModelTypes.join(', ')}`,
    )
  const qwen2 = modelType === 'qwen2'
  const qwen3 = modelType === 'qwen3'
  if (json.mlp_bias) throw refuse('its feed-forward projections have biases (mlp_bias)')
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu')
    throw refuse(`its activation is ${JSON.stringify(json.hidden_act)} (hidden_act), not SiLU`)
  const width = n('hidden_size')!
  const heads = n('num_attention_heads')!
  const moe =
    n('n_routed_experts') !== undefined
      ? {
          routedExperts: n('n_routed_experts')!,
          sharedExperts: n('n_shared_experts') ?? 0,
          topK: n('num_experts_per_tok') ?? 2,
          expertHidden: n('moe_intermediate_size') ?? null,
          firstDenseLayers: n('first_k_dense_replace') ?? 0,
          affinity: (json.scoring_func as 'softmax' | 'sigmoid' | undefined) ?? 'softmax',
          normalizeWeights: (json.norm_topk_prob as boolean | undefined) ?? false,
          routeScale: n('routed_scaling_factor') ?? 1,
          balance: json.topk_method === 'noaux_tc' ? ('aux-free' as const) : ('aux' as const),
          capacityFactor: null,
        }
      : null
  let attentionWindow: number | null = null
  if (qwen2 || qwen3) {
    // Qwen2 and Qwen3 window only the layers from max_window_layers on, and only with use_sliding_window.
    if (json.use_sliding_window === true && n('sliding_window') !== undefined) {
      if ((n('max_window_layers') ?? 0) > 0)
        throw refuse(
          `only its layers from max_window_layers (${n('max_window_layers')}) on attend within a window, and Frugal windows every layer or none`,
        )
      attentionWindow = n('sliding_window')!
    }
  } else attentionWindow = n('sliding_window') ?? null
  return modelConfigSchema.parse({
    vocabSize: n('vocab_size'),
    contextLength: Math.min(n('max_position_embeddings') ?? 2048, 8192),
    layers: n('num_hidden_layers'),
    heads,
    // Grouped-query attention: fewer key/value heads than query heads.
    kvHeads:
      n('num_key_value_heads') !== undefined && n('num_key_value_heads') !== heads
        ? n('num_key_value_heads')
        : null,
    width,
    // Llama 3.2 and Qwen2.5 state width ÷ heads; Qwen3's heads are wider.
    headDim: n('head_dim') !== undefined && n('head_dim') !== width / heads ? n('head_dim') : null,
    ffnHidden: n('intermediate_size') ?? null,
    normEps: n('rms_norm_eps') ?? 1e-6,
    ropeTheta: n('rope_theta') ?? 10_000,
    ropeScaling: ropeScalingFromHf(json.rope_scaling, refuse),
    // Qwen2 biases q, k and v by construction; Llama's attention_bias also biases o, whose
    // tensors must then be zero (fromHfTensors checks).
    attentionBias: qwen2 || json.attention_bias === true,
    qkNorm: qwen3,
    tieEmbeddings: (json.tie_word_embeddings as boolean | undefined) ?? false,
    attentionWindow,
    moe,
  })
}

/** Llama 3's rope_scaling object (rope_type "llama3"); any other kind is refused. */
function ropeScalingFromHf(
  value: unknown,
  refuse: (why: string) => UserError,
): ModelConfig['ropeScaling'] {
  if (value === undefined || value === null) return null
  const r = value as Record<string, unknown>
  const type = r.rope_type ?? r.type
  if (type === 'default') return null
  if (type !== 'llama3')
    throw refuse(
      `it uses RoPE scaling of type ${JSON.stringify(type ?? null)} (rope_scaling), and Frugal implements Llama 3's`,
    )
  return {
    factor: r.factor as number,
    lowFreqFactor: r.low_freq_factor as number,
    highFreqFactor: r.high_freq_factor as number,
    originalContext: r.original_max_position_embeddings as number,
  }
}
