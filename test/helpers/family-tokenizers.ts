/**
 * tokenizer.json files in the exact layouts of today's small open models (Qwen 2/2.5/3,
 * SmolLM2, Llama 3.2: normalizer, pre-tokenizer, post-processor, decoder, where their added
 * tokens sit), around a vocabulary and merges learned in the test. Used by the tokenizer's
 * Hugging Face comparisons and by the model-folder fixtures (open-model-folders.ts).
 */

type Json = Record<string, unknown>

/** A byte-level BPE model's vocabulary and its merges as "a b" strings. */
export interface TrainedModel {
  vocab: Record<string, number>
  merges: string[]
}

/** A model as a family writes it: merges as "a b" strings or as pairs. */
interface FileModel {
  vocab: Record<string, number>
  merges: string[] | string[][]
}

export const addedToken = (id: number, content: string, special: boolean, normalized = false) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized,
  special,
})

export const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean, useRegex: boolean) => ({
  type: 'ByteLevel',
  add_prefix_space: addPrefixSpace,
  trim_offsets: trimOffsets,
  use_regex: useRegex,
})

export const bpeModel = (model: FileModel, options: Json) => ({
  type: 'BPE',
  dropout: null,
  unk_token: null,
  continuing_subword_prefix: null,
  end_of_word_suffix: null,
  fuse_unk: false,
  byte_fallback: false,
  ignore_merges: false,
  ...options,
  vocab: model.vocab,
  merges: model.merges,
})

export const QWEN_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/** Qwen 3's added tokens in order, with their `special` flags (the tool and FIM ones are not). */
export const QWEN_ADDED: [string, boolean][] = [
  ...[
    'endoftext',
    'im_start',
    'im_end',
    'object_ref_start',
    'object_ref_end',
    'box_start',
    'box_end',
    'quad_start',
    'quad_end',
    'vision_start',
    'vision_end',
    'vision_pad',
    'image_pad',
    'video_pad',
  ].map((n): [string, boolean] => [`<|${n}|>`, true]),
  ['<tool_call>', false],
  ['</tool_call>', false],
  ...['fim_prefix', 'fim_middle', 'fim_suffix', 'fim_pad', 'repo_name', 'file_sep'].map(
    (n): [string, boolean] => [`<|${n}|>`, false],
  ),
  ['<tool_response>', false],
  ['</tool_response>', false],
  ['<think>', false],
  ['</think>', false],
]

export function qwenJson(model: TrainedModel): Json {
  const n = Object.keys(model.vocab).length
  const pretokenizer = byteLevel(false, false, false)
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: QWEN_ADDED.map(([content, special], i) => addedToken(n + i, content, special)),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN_PATTERN }, behavior: 'Isolated', invert: false },
        pretokenizer,
      ],
    },
    post_processor: pretokenizer,
    decoder: pretokenizer,
    // Qwen 3's file writes merges as pairs (tokenizers ≥ 0.20).
    model: bpeModel(
      { vocab: model.vocab, merges: model.merges.map((m) => m.split(' ')) },
      { continuing_subword_prefix: '', end_of_word_suffix: '' },
    ),
  }
}

export const SMOL_SPECIALS = [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<repo_name>',
  '<reponame>',
  '<file_sep>',
  '<filename>',
  '<gh_stars>',
  '<issue_start>',
  '<issue_comment>',
  '<issue_closed>',
  '<jupyter_start>',
  '<jupyter_text>',
  '<jupyter_code>',
  '<jupyter_output>',
  '<jupyter_script>',
  '<empty_output>',
]

/** SmolLM2: special tokens at ids 0..16, inside the model's vocabulary. */
export function smolJson(model: TrainedModel, individualDigits = true): Json {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SMOL_SPECIALS.map((content, id) => addedToken(id, content, true)),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: individualDigits },
        byteLevel(false, true, true),
      ],
    },
    post_processor: byteLevel(true, false, true),
    decoder: byteLevel(true, true, true),
    model: bpeModel(model, { unk_token: '<|endoftext|>' }),
  }
}

/** Llama 3.2's 256 special tokens, in its order. */
export function llamaSpecials(): string[] {
  const names = [
    'begin_of_text',
    'end_of_text',
    'reserved_special_token_0',
    'reserved_special_token_1',
    'finetune_right_pad_id',
    'reserved_special_token_2',
    'start_header_id',
    'end_header_id',
    'eom_id',
    'eot_id',
    'python_tag',
  ]
  for (let i = 3; names.length < 256; i++) names.push(`reserved_special_token_${i}`)
  return names.map((n) => `<|${n}|>`)
}

/**
 * Llama 3.2: special tokens after the model's ids, ignore_merges, a template that puts
 * <|begin_of_text|> first. `wholeOnly`: tokens added to the vocabulary that no merge builds.
 */
export function llamaJson(model: TrainedModel, wholeOnly: readonly string[] = []): Json {
  const vocab = { ...model.vocab }
  let n = Object.keys(vocab).length
  for (const t of wholeOnly) vocab[t] = n++
  const specials = llamaSpecials()
  const bos = specials[0]
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, i) => addedToken(n + i, content, true)),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        byteLevel(false, true, false),
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        byteLevel(true, false, true),
        {
          type: 'TemplateProcessing',
          single: [
            { SpecialToken: { id: bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
          ],
          pair: [
            { SpecialToken: { id: bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [bos]: { id: bos, ids: [n], tokens: [bos] } },
        },
      ],
    },
    decoder: byteLevel(true, true, true),
    model: bpeModel({ vocab, merges: model.merges }, { ignore_merges: true }),
  }
}
