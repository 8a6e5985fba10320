import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { toBfloat16 } from '../../src/worker/export/floats'
import { bytesOf, writeSafetensors, type StoredTensor } from '../../src/worker/export/safetensors'
import { Rng } from '../../src/shared/rng'
import {
  llamaJson,
  llamaSpecials,
  QWEN_ADDED,
  qwenJson,
  SMOL_SPECIALS,
  smolJson,
} from './family-tokenizers'

/**
 * Model folders laid out as Hugging Face publishes today's small open models, shrunk to a
 * few thousand parameters with random bf16 weights: config.json with the family's own
 * fields (copied from the released files, sizes changed), tensors under the family's names
 * in PyTorch's [out, in] layout, written here by hand rather than by Frugal's exporter so
 * that the importer's mapping is checked against the layout itself.
 */
export type Family = 'qwen2.5' | 'qwen3' | 'smollm2' | 'llama-3.2'

/** Qwen3's heads are wider than hidden ÷ heads (128 for 1024 ÷ 16 in Qwen3-0.6B). */
export const qwen3HeadDim = (s: FolderShape) => (s.hidden / s.heads) * 1.5

export interface FolderShape {
  hidden: number
  heads: number
  kvHeads: number
  layers: number
  intermediate: number
  /** Embedding rows: the tokenizer's size, or more (Qwen pads its embedding). */
  vocab: number
  bos: number | null
  eos: number
}

/** config.json of each family: the released file's fields, with this folder's sizes. */
export function familyConfig(family: Family, s: FolderShape): Record<string, unknown> {
  const common = {
    hidden_act: 'silu',
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    num_key_value_heads: s.kvHeads,
    vocab_size: s.vocab,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    use_cache: true,
    attention_dropout: 0.0,
  }
  switch (family) {
    case 'qwen2.5': // Qwen/Qwen2.5-0.5B
      return {
        architectures: ['Qwen2ForCausalLM'],
        bos_token_id: s.bos ?? s.eos,
        eos_token_id: s.eos,
        initializer_range: 0.02,
        max_position_embeddings: 32768,
        max_window_layers: 24,
        model_type: 'qwen2',
        rms_norm_eps: 1e-6,
        rope_theta: 1000000.0,
        sliding_window: 32768,
        transformers_version: '4.43.1',
        use_sliding_window: false,
        ...common,
      }
    case 'qwen3': // Qwen/Qwen3-0.6B-Base
      return {
        architectures: ['Qwen3ForCausalLM'],
        attention_bias: false,
        bos_token_id: s.bos ?? s.eos,
        eos_token_id: s.eos,
        head_dim: qwen3HeadDim(s),
        initializer_range: 0.02,
        max_position_embeddings: 32768,
        max_window_layers: 28,
        model_type: 'qwen3',
        rms_norm_eps: 1e-6,
        rope_scaling: null,
        rope_theta: 1000000,
        sliding_window: null,
        transformers_version: '4.51.0',
        use_sliding_window: false,
        ...common,
      }
    case 'smollm2': // HuggingFaceTB/SmolLM2-135M
      return {
        architectures: ['LlamaForCausalLM'],
        attention_bias: false,
        bos_token_id: s.bos,
        eos_token_id: s.eos,
        initializer_range: 0.041666666666666664,
        is_llama_config: true,
        max_position_embeddings: 8192,
        mlp_bias: false,
        model_type: 'llama',
        pretraining_tp: 1,
        rms_norm_eps: 1e-5,
        rope_interleaved: false,
        rope_scaling: null,
        rope_theta: 100000,
        transformers_version: '4.42.3',
        ...common,
      }
    case 'llama-3.2': // meta-llama/Llama-3.2-1B
      return {
        architectures: ['LlamaForCausalLM'],
        attention_bias: false,
        bos_token_id: s.bos,
        eos_token_id: s.eos,
        head_dim: s.hidden / s.heads,
        initializer_range: 0.02,
        max_position_embeddings: 131072,
        mlp_bias: false,
        model_type: 'llama',
        pretraining_tp: 1,
        rms_norm_eps: 1e-5,
        // A short original context (8192 in the release), so that the scaling changes the
        // rotations within a test prompt.
        rope_scaling: {
          factor: 32.0,
          high_freq_factor: 4.0,
          low_freq_factor: 1.0,
          original_max_position_embeddings: 32,
          rope_type: 'llama3',
        },
        rope_theta: 500000.0,
        transformers_version: '4.45.0.dev0',
        ...common,
      }
  }
}

/** The family's tensors, [out, in] as PyTorch stores them, random bf16 values. */
export function familyTensors(family: Family, s: FolderShape, seed = 7): Map<string, StoredTensor> {
  const rng = new Rng(seed)
  const hs = family === 'qwen3' ? qwen3HeadDim(s) : s.hidden / s.heads
  const q = s.heads * hs
  const kv = s.kvHeads * hs
  const out = new Map<string, StoredTensor>()
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    const n = shape.reduce((a, b) => a * b, 1)
    const values = rng.normalArray(n, std).map((x) => x + mean)
    out.set(name, { dtype: 'BF16', shape, data: bytesOf(toBfloat16(values)) })
  }
  put('model.embed_tokens.weight', [s.vocab, s.hidden], 0.5)
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}`
    put(`${p}.input_layernorm.weight`, [s.hidden], 0.1, 1)
    put(`${p}.self_attn.q_proj.weight`, [q, s.hidden], 0.15)
    put(`${p}.self_attn.k_proj.weight`, [kv, s.hidden], 0.15)
    put(`${p}.self_attn.v_proj.weight`, [kv, s.hidden], 0.15)
    if (family === 'qwen2.5') {
      put(`${p}.self_attn.q_proj.bias`, [s.hidden], 0.3)
      put(`${p}.self_attn.k_proj.bias`, [kv], 0.3)
      put(`${p}.self_attn.v_proj.bias`, [kv], 0.3)
    }
    if (family === 'qwen3') {
      put(`${p}.self_attn.q_norm.weight`, [hs], 0.2, 1)
      put(`${p}.self_attn.k_norm.weight`, [hs], 0.2, 1)
    }
    put(`${p}.self_attn.o_proj.weight`, [s.hidden, q], 0.15)
    put(`${p}.post_attention_layernorm.weight`, [s.hidden], 0.1, 1)
    put(`${p}.mlp.gate_proj.weight`, [s.intermediate, s.hidden], 0.15)
    put(`${p}.mlp.up_proj.weight`, [s.intermediate, s.hidden], 0.15)
    put(`${p}.mlp.down_proj.weight`, [s.hidden, s.intermediate], 0.1)
  }
  put('model.norm.weight', [s.hidden], 0.1, 1)
  return out
}

/**
 * Write a folder: config.json, tokenizer.json, tokenizer_config.json, and the weights as
 * model.safetensors or, with `shards`, as that many files listed in
 * model.safetensors.index.json (how Hugging Face saves larger models).
 */
export function writeFamilyFolder(
  dir: string,
  family: Family,
  shape: FolderShape,
  tokenizer: { json: string; config: Record<string, unknown> },
  options: { shards?: number } = {},
): Map<string, StoredTensor> {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), JSON.stringify(familyConfig(family, shape), null, 2))
  writeFileSync(join(dir, 'tokenizer.json'), tokenizer.json)
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizer.config, null, 2))
  const tensors = familyTensors(family, shape)
  const shards = options.shards ?? 1
  if (shards === 1) {
    writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' })
    return tensors
  }
  const names = [...tensors.keys()]
  const weightMap: Record<string, string> = {}
  let totalSize = 0
  for (let i = 0; i < shards; i++) {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`
    const part = new Map(names.filter((_, j) => j % shards === i).map((n) => [n, tensors.get(n)!]))
    for (const [n, t] of part) {
      weightMap[n] = file
      totalSize += t.data.byteLength
    }
    writeSafetensors(join(dir, file), part, { format: 'pt' })
  }
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2),
  )
  return tensors
}

/** A family's tokenizer: tokenizer.json text, tokenizer_config.json, and its size. */
export interface FamilyTokenizer {
  json: string
  config: Record<string, unknown>
  size: number
  bos: number | null
  eos: number
}

/**
 * A tokenizer.json in a family's layout (family-tokenizers.ts), with the byte-level
 * vocabulary and merges of `base` (a tokenizer.json of Frugal's byte-level BPE, whose
 * special tokens are dropped for the family's own), and its tokenizer_config.json.
 */
export function familyTokenizer(family: Family, base: string): FamilyTokenizer {
  const parsed = JSON.parse(base) as {
    added_tokens: { content: string }[]
    model: { vocab: Record<string, number>; merges: string[] }
  }
  const specials = new Set(parsed.added_tokens.map((t) => t.content))
  const plain = Object.entries(parsed.model.vocab)
    .filter(([t]) => !specials.has(t))
    .sort((a, b) => a[1] - b[1])
    .map(([t]) => t)
  const model = (tokens: string[]) => ({
    vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
    merges: parsed.model.merges,
  })
  const n = plain.length
  switch (family) {
    case 'qwen2.5':
    case 'qwen3':
      return {
        json: JSON.stringify(qwenJson(model(plain))),
        config: {
          add_prefix_space: false,
          bos_token: null,
          eos_token: '<|endoftext|>',
          pad_token: '<|endoftext|>',
          model_max_length: 131072,
          tokenizer_class: 'Qwen2Tokenizer',
          chat_template:
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        },
        size: n + QWEN_ADDED.length,
        bos: null,
        eos: n, // <|endoftext|>, the first added token
      }
    case 'smollm2':
      return {
        json: JSON.stringify(smolJson(model([...SMOL_SPECIALS, ...plain]))),
        config: {
          add_prefix_space: false,
          bos_token: '<|endoftext|>',
          eos_token: '<|endoftext|>',
          unk_token: '<|endoftext|>',
          model_max_length: 8192,
          tokenizer_class: 'GPT2Tokenizer',
          vocab_size: 49152,
        },
        size: SMOL_SPECIALS.length + n,
        bos: 0,
        eos: 0,
      }
    case 'llama-3.2':
      return {
        json: JSON.stringify(llamaJson(model(plain))),
        config: {
          bos_token: '<|begin_of_text|>',
          eos_token: '<|end_of_text|>',
          model_max_length: 131072,
          tokenizer_class: 'PreTrainedTokenizerFast',
        },
        size: n + llamaSpecials().length,
        bos: n, // <|begin_of_text|>, then <|end_of_text|>
        eos: n + 1,
      }
  }
}
