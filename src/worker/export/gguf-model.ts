import { UserError } from '../../shared/errors'
import { denseHidden, expertHidden, headWidth, kvHeadsOf, type ModelConfig } from '../model/config'
import { PRETOKENIZER_PATTERNS } from '../tokenizer/pretokenize'
import { documentStart } from '../tokenizer/document-start'
import type { Tokenizer } from '../tokenizer/types'
import {
  dequantizeQ8_0,
  encodeTensor,
  GgmlType,
  Q8_0_BLOCK,
  type GgufTensor,
  type GgufValue,
} from './gguf'
import { fromFloat16 } from './floats'
import { fromHfTensors, toHfTensors, type HfTensor } from './hf'
import { ropeFrequencies } from '../model/layers/rope'

/**
 * A Frugal model as a llama.cpp architecture (`llama`, or `glm4moe` for MoE: see
 * Architecture): the names, layouts and metadata llama.cpp's own converter
 * (convert_hf_to_gguf.py) writes for those checkpoints, so llama.cpp, Ollama and LM Studio
 * run it with the same math as Frugal's decoder.
 */

export const ggufDtypes = ['f32', 'f16', 'q8_0'] as const
export type GgufDtype = (typeof ggufDtypes)[number]

/** general.file_type: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0. */
const fileType: Record<GgufDtype, number> = { f32: 0, f16: 1, q8_0: 7 }

/**
 * Why this config cannot be written as GGUF exactly, or null when it can. What llama.cpp
 * would compute differently is refused, never exported approximately.
 */
export function ggufRefusal(c: ModelConfig, tokenizer: Tokenizer): string | null {
  if (c.moe?.routing === 'topp')
    return 'This model routes each token to experts by top-p, which no llama.cpp architecture implements (its MoE layers take a fixed top-k).'
  if (c.attentionWindow !== null)
    return `This model attends within a sliding window of ${c.attentionWindow} tokens, which llama.cpp's llama architecture does not apply: its output would differ.`
  if (c.globalTokens > 0)
    return 'This model has global tokens, which no llama.cpp architecture implements.'
  if (c.qkNorm && c.attentionBias && !c.moe)
    return "This model has both QK-norm and attention biases, and llama.cpp's qwen3 architecture (the one with QK-norm) takes no biases."
  if (c.ropeScaling && architectureOf(c) !== 'llama')
    return `This model scales its rotary frequencies the Llama 3 way, which llama.cpp applies only in its llama architecture, and this model needs ${architectureOf(c)}.`
  return tokenizerRefusal(tokenizer)
}

function tokenizerRefusal(tokenizer: Tokenizer): string | null {
  if (tokenizer.kind === 'char') {
    if (tokenizer.tokenToId(SPM_SPACE) !== null)
      return `The character tokenizer has a "${SPM_SPACE}" token, which llama.cpp's character-level (SentencePiece) tokenizer reserves for spaces.`
    return null
  }
  if (pretokenizerName(tokenizer) === null)
    return "The tokenizer splits text with a pattern llama.cpp has no built-in equivalent of (it knows Llama 3's and GPT-2's)."
  return null
}

/**
 * Split patterns as the released tokenizer.json files of the families llama.cpp knows
 * write them (Oniguruma syntax), with llama.cpp's name for each.
 */
const RELEASED_PATTERNS: Record<string, string> = {
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+":
    'llama-bpe',
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+":
    'qwen2',
}

/** llama.cpp's name (tokenizer.ggml.pre) for the byte-level BPE's pre-tokenizer, or null. */
function pretokenizerName(tokenizer: Tokenizer): string | null {
  interface Step {
    type?: string
    use_regex?: boolean
    individual_digits?: boolean
    pattern?: { Regex?: string }
  }
  const pre = tokenizer.toJSON().pre_tokenizer as (Step & { pretokenizers?: Step[] }) | null
  if (pre?.type === 'ByteLevel' && pre.use_regex) return 'gpt-2'
  const steps = pre?.pretokenizers ?? []
  // SmolLM2's: single digits apart, then GPT-2's split (llama.cpp's "smollm").
  if (
    steps.length === 2 &&
    steps[0].type === 'Digits' &&
    steps[0].individual_digits === true &&
    steps[1].type === 'ByteLevel' &&
    steps[1].use_regex === true
  )
    return 'smollm'
  // Otherwise exactly one split, then the byte mapping: what llama.cpp's named patterns do.
  const pattern = steps[0]?.pattern?.Regex
  if (
    pattern === undefined ||
    steps.length !== 2 ||
    steps[0].type !== 'Split' ||
    steps[1].type !== 'ByteLevel' ||
    steps[1].use_regex !== false
  )
    return null
  if (pattern === PRETOKENIZER_PATTERNS.llama3) return 'llama-bpe'
  if (pattern === PRETOKENIZER_PATTERNS.gpt2) return 'gpt-2'
  return RELEASED_PATTERNS[pattern] ?? null
}

/** SentencePiece's visible space, which llama.cpp's SPM tokenizer puts in place of ' '. */
const SPM_SPACE = '\u2581'

/** llama.cpp's token types (user-defined: added tokens matched in text, not special). */
const TokenType = { normal: 1, control: 3, userDefined: 4, byte: 6 } as const

/**
 * Permute the rows of a q or k projection ([out, in], Hugging Face's rotate-half layout)
 * into the interleaved pairs llama.cpp's rotary embedding rotates, exactly as
 * convert_hf_to_gguf.py does: per head, rows (i, i + hs/2) become rows (2i, 2i + 1).
 */
function permuteForRope(
  w: Float32Array,
  heads: number,
  outDim: number,
  inDim: number,
): Float32Array {
  const hs = outDim / heads
  const half = hs / 2
  const out = new Float32Array(w.length)
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let pair = 0; pair < 2; pair++) {
        const from = (h * hs + pair * half + i) * inDim
        const to = (h * hs + 2 * i + pair) * inDim
        out.set(w.subarray(from, from + inDim), to)
      }
  return out
}

const tensorName = (hf: string, arch: Architecture): string => {
  const fixed: Record<string, string> = {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  }
  if (fixed[hf]) return fixed[hf]
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hf)
  const parts: Record<string, string> = {
    'input_layernorm.weight': 'attn_norm.weight',
    'self_attn.q_proj.weight': 'attn_q.weight',
    'self_attn.k_proj.weight': 'attn_k.weight',
    'self_attn.v_proj.weight': 'attn_v.weight',
    'self_attn.q_proj.bias': 'attn_q.bias',
    'self_attn.k_proj.bias': 'attn_k.bias',
    'self_attn.v_proj.bias': 'attn_v.bias',
    'self_attn.q_norm.weight': 'attn_q_norm.weight',
    'self_attn.k_norm.weight': 'attn_k_norm.weight',
    'self_attn.o_proj.weight': 'attn_output.weight',
    // glm4moe's pre-FFN norm is its "post-attention" norm.
    'post_attention_layernorm.weight':
      arch === 'glm4moe' ? 'post_attention_norm.weight' : 'ffn_norm.weight',
    'mlp.gate_proj.weight': 'ffn_gate.weight',
    'mlp.up_proj.weight': 'ffn_up.weight',
    'mlp.down_proj.weight': 'ffn_down.weight',
  }
  if (!m || !parts[m[2]]) throw new Error(`No GGUF name for ${hf}.`)
  return `blk.${m[1]}.${parts[m[2]]}`
}

/**
 * llama.cpp's architecture for a config: `llama` for a dense model, `qwen2` for a dense
 * model with q, k and v biases; for MoE, `glm4moe`, whose layer is Frugal's: leading dense
 * layers, softmax or sigmoid affinities, top-k chosen with the balancing bias and weighted
 * without it, optional normalization, a routed scale, and shared experts added
 * unconditionally (with zero weights when there are none, which adds exactly nothing). Its
 * attention takes q, k and v biases too.
 */
type Architecture = 'llama' | 'qwen2' | 'qwen3' | 'glm4moe'

const architectureOf = (c: ModelConfig): Architecture =>
  c.moe ? 'glm4moe' : c.qkNorm ? 'qwen3' : c.attentionBias ? 'qwen2' : 'llama'

export interface GgufModel {
  metadata: Map<string, GgufValue>
  tensors: GgufTensor[]
}

/**
 * The model as GGUF metadata and tensors. Matrices are stored in `dtype` (q8_0 needs rows
 * of a multiple of 32: a matrix that has not them stays f16); norms stay f32, as llama.cpp
 * expects. `separator`: the token Frugal puts before a prompt, written as the beginning of
 * a sequence that llama.cpp adds the same way.
 */
export function ggufModel(
  c: ModelConfig,
  weights: ReadonlyMap<string, Float32Array>,
  tokenizer: Tokenizer,
  options: { dtype: GgufDtype; name: string; chatTemplate?: string | null },
): GgufModel {
  const refusal = ggufRefusal(c, tokenizer)
  if (refusal) throw new UserError('unsupported', refusal, 'format')
  const arch = architectureOf(c)
  const meta = new Map<string, GgufValue>()
  const u32 = (key: string, value: number) => meta.set(key, { type: 'u32', value })
  const f32 = (key: string, value: number) => meta.set(key, { type: 'f32', value })
  meta.set('general.architecture', { type: 'string', value: arch })
  meta.set('general.name', { type: 'string', value: options.name })
  u32('general.file_type', fileType[options.dtype])
  u32('general.quantization_version', 2)
  u32(`${arch}.context_length`, c.contextLength)
  u32(`${arch}.embedding_length`, c.width)
  u32(`${arch}.block_count`, c.layers)
  u32(`${arch}.feed_forward_length`, denseHidden(c))
  u32(`${arch}.attention.head_count`, c.heads)
  u32(`${arch}.attention.head_count_kv`, kvHeadsOf(c))
  u32(`${arch}.rope.dimension_count`, headWidth(c))
  // Heads wider or narrower than width ÷ heads (Qwen3): llama.cpp reads their width here.
  if (c.headDim !== null) {
    u32(`${arch}.attention.key_length`, c.headDim)
    u32(`${arch}.attention.value_length`, c.headDim)
  }
  f32(`${arch}.rope.freq_base`, c.ropeTheta)
  f32(`${arch}.attention.layer_norm_rms_epsilon`, c.normEps)
  u32(`${arch}.vocab_size`, c.vocabSize)
  const moe = c.moe
  if (moe) {
    u32(`${arch}.expert_count`, moe.routedExperts)
    u32(`${arch}.expert_used_count`, moe.topK)
    u32(`${arch}.expert_feed_forward_length`, expertHidden(c))
    // glm4moe always adds a shared expert: with none, one of zeros.
    u32(`${arch}.expert_shared_count`, Math.max(1, moe.sharedExperts))
    u32(`${arch}.leading_dense_block_count`, moe.firstDenseLayers)
    f32(`${arch}.expert_weights_scale`, moe.routeScale)
    meta.set(`${arch}.expert_weights_norm`, {
      type: 'bool',
      value: moe.normalizeWeights && moe.topK > 1,
    })
    u32(`${arch}.expert_gating_func`, moe.affinity === 'softmax' ? 1 : 2)
    u32(`${arch}.nextn_predict_layers`, 0)
  }
  for (const [k, v] of tokenizerMetadata(tokenizer, c.vocabSize)) meta.set(k, v)
  // How llama.cpp, Ollama and LM Studio format a conversation for this model.
  if (options.chatTemplate)
    meta.set('tokenizer.chat_template', { type: 'string', value: options.chatTemplate })

  const tensors: GgufTensor[] = []
  const add = (name: string, shape: number[], values: Float32Array) => {
    const type = storedType(shape, options.dtype)
    tensors.push({ name, dims: [...shape].reverse(), type, data: encodeTensor(values, type) })
  }
  const hf = toHfTensors(c, weights)
  for (const [name, t] of hf) {
    if (/\.mlp\.(gate\.|experts\.|shared_experts\.)/.test(name)) continue // MoE: below
    if (name.endsWith('o_proj.bias')) continue // zeros that only the safetensors layout needs
    let values = t.values
    const ours = tensorName(name, arch)
    // llama rotates interleaved pairs (convert_hf_to_gguf.py permutes q and k for it);
    // qwen2, qwen3 and glm4moe rotate the halves of each head, Frugal's layout already.
    if (arch === 'llama' && ours.endsWith('attn_q.weight'))
      values = permuteForRope(values, c.heads, t.shape[0], t.shape[1])
    if (arch === 'llama' && ours.endsWith('attn_k.weight'))
      values = permuteForRope(values, kvHeadsOf(c), t.shape[0], t.shape[1])
    add(ours, t.shape, values)
  }
  // Llama 3's scaling as llama.cpp takes it: each frequency's divisor, one per pair of a head.
  if (c.ropeScaling) {
    const plain = ropeFrequencies(headWidth(c), c.ropeTheta)
    const scaled = ropeFrequencies(headWidth(c), c.ropeTheta, c.ropeScaling)
    add(
      'rope_freqs.weight',
      [plain.length],
      Float32Array.from(plain, (f, i) => f / scaled[i]),
    )
  }
  if (moe)
    for (let l = moe.firstDenseLayers; l < c.layers; l++) {
      for (const [name, shape, values] of moeTensors(c, hf, l))
        add(`blk.${l}.${name}`, shape, values)
    }
  return { metadata: meta, tensors }
}

/**
 * How a tensor of this shape (Hugging Face order) is stored: vectors (norms, biases) in f32,
 * as llama.cpp expects; matrices in the file's dtype, except that q8_0 needs rows of a
 * multiple of 32 (its blocks run along a row) and stores other matrices in f16.
 */
function storedType(shape: readonly number[], dtype: GgufDtype): GgmlType {
  if (shape.length < 2 || dtype === 'f32') return GgmlType.F32
  return dtype === 'q8_0' && shape[shape.length - 1] % Q8_0_BLOCK === 0
    ? GgmlType.Q8_0
    : GgmlType.F16
}

/**
 * Frugal's weights as a GGUF file of `dtype` stores them, read back (q8_0 blocks or f16
 * rounding; the rows of q and k that llama's layout permutes are quantized the same, row by
 * row): what the export's perplexity with the file's weights measures.
 */
export function ggufRoundTrip(
  c: ModelConfig,
  weights: ReadonlyMap<string, Float32Array>,
  dtype: GgufDtype,
): Map<string, Float32Array> {
  const stored = new Map<string, HfTensor>()
  for (const [name, t] of toHfTensors(c, weights)) {
    const type = storedType(t.shape, dtype)
    const bytes = encodeTensor(t.values, type)
    const values =
      type === GgmlType.F32
        ? t.values
        : type === GgmlType.F16
          ? fromFloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2))
          : dequantizeQ8_0(bytes)
    stored.set(name, { shape: t.shape, values })
  }
  return fromHfTensors(c, stored)
}

/**
 * One MoE layer as glm4moe's tensors, [shape in Hugging Face order, values]: the router,
 * the balancing bias (when the model has one), the routed experts stacked into one
 * (E, out, in) tensor per projection, and the shared expert.
 */
function moeTensors(
  c: ModelConfig,
  hf: ReadonlyMap<string, HfTensor>,
  l: number,
): [string, number[], Float32Array][] {
  const moe = c.moe!
  const p = `model.layers.${l}.mlp`
  const get = (name: string) => {
    const t = hf.get(name)
    if (!t) throw new Error(`No tensor ${name} to export.`)
    return t
  }
  const out: [string, number[], Float32Array][] = []
  const router = get(`${p}.gate.weight`)
  out.push(['ffn_gate_inp.weight', router.shape, router.values])
  // glm4moe requires the balancing bias; zeros where the model has none leave the choice as is.
  const bias = hf.get(`${p}.gate.e_score_correction_bias`)
  out.push([
    'exp_probs_b.bias',
    [moe.routedExperts],
    bias?.values ?? new Float32Array(moe.routedExperts),
  ])
  for (const [proj, name] of [
    ['gate_proj', 'ffn_gate_exps.weight'],
    ['up_proj', 'ffn_up_exps.weight'],
    ['down_proj', 'ffn_down_exps.weight'],
  ] as const) {
    const parts = Array.from({ length: moe.routedExperts }, (_, e) =>
      get(`${p}.experts.${e}.${proj}.weight`),
    )
    const stacked = new Float32Array(parts.reduce((n, t) => n + t.values.length, 0))
    let at = 0
    for (const t of parts) {
      stacked.set(t.values, at)
      at += t.values.length
    }
    out.push([name, [moe.routedExperts, ...parts[0].shape], stacked])
  }
  const h = expertHidden(c)
  for (const [proj, name, shape] of [
    ['gate_proj', 'ffn_gate_shexp.weight', [h, c.width]],
    ['up_proj', 'ffn_up_shexp.weight', [h, c.width]],
    ['down_proj', 'ffn_down_shexp.weight', [c.width, h]],
  ] as const) {
    const t = hf.get(`${p}.shared_experts.${proj}.weight`)
    out.push(t ? [name, t.shape, t.values] : [name, [...shape], new Float32Array(h * c.width)])
  }
  return out
}

/** tokenizer.ggml.*: the vocabulary, merges or character pieces, and the special tokens. */
function tokenizerMetadata(tokenizer: Tokenizer, vocabSize: number): Map<string, GgufValue> {
  const meta = new Map<string, GgufValue>()
  const specials = new Set(tokenizer.specialTokens.map((s) => s.id))
  // Added tokens that are not special (Qwen's <tool_call>): matched in text, like Hugging Face.
  const userDefined = new Set(
    tokenizer
      .toJSON()
      .added_tokens.filter((t) => !t.special)
      .map((t) => t.id),
  )
  const tokens: string[] = []
  const types = new Int32Array(vocabSize)
  for (let id = 0; id < vocabSize; id++) {
    const token = tokenizer.idToToken(id) ?? `<|unused_${id}|>`
    const isByte = tokenizer.kind === 'char' && /^<0x[0-9A-F]{2}>$/.test(token)
    tokens.push(tokenizer.kind === 'char' && token === ' ' ? SPM_SPACE : token)
    types[id] = specials.has(id)
      ? TokenType.control
      : userDefined.has(id)
        ? TokenType.userDefined
        : isByte
          ? TokenType.byte
          : TokenType.normal
  }
  if (tokenizer.kind === 'bpe') {
    const json = tokenizer.toJSON()
    const merges = (json.model as { merges?: (string | [string, string])[] }).merges ?? []
    meta.set('tokenizer.ggml.model', { type: 'string', value: 'gpt2' })
    meta.set('tokenizer.ggml.pre', { type: 'string', value: pretokenizerName(tokenizer)! })
    meta.set('tokenizer.ggml.tokens', { type: 'strings', value: tokens })
    meta.set('tokenizer.ggml.token_type', { type: 'i32s', value: types })
    meta.set('tokenizer.ggml.merges', {
      type: 'strings',
      value: merges.map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`)),
    })
  } else {
    // Characters as SentencePiece pieces: nothing merges (no piece is longer than a
    // character), unseen characters fall back to <0xNN> byte pieces where the tokenizer has them.
    meta.set('tokenizer.ggml.model', { type: 'string', value: 'llama' })
    meta.set('tokenizer.ggml.tokens', { type: 'strings', value: tokens })
    meta.set('tokenizer.ggml.scores', { type: 'f32s', value: new Float32Array(vocabSize) })
    meta.set('tokenizer.ggml.token_type', { type: 'i32s', value: types })
    meta.set('tokenizer.ggml.add_space_prefix', { type: 'bool', value: false })
  }
  // llama.cpp starts a prompt with its beginning-of-sequence token: the one Frugal starts a
  // document with (the separator of its training streams, or Llama 3's <|begin_of_text|>).
  const start = documentStart(tokenizer)
  if (start.length === 1) {
    meta.set('tokenizer.ggml.bos_token_id', { type: 'u32', value: start[0] })
    meta.set('tokenizer.ggml.add_bos_token', { type: 'bool', value: true })
  } else meta.set('tokenizer.ggml.add_bos_token', { type: 'bool', value: false })
  if (tokenizer.eos !== null)
    meta.set('tokenizer.ggml.eos_token_id', { type: 'u32', value: tokenizer.eos })
  if (tokenizer.pad !== null)
    meta.set('tokenizer.ggml.padding_token_id', { type: 'u32', value: tokenizer.pad })
  meta.set('tokenizer.ggml.add_eos_token', { type: 'bool', value: false })
  return meta
}
