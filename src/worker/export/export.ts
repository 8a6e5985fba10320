import { mkdirSync, readdirSync, existsSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { UserError } from '../../shared/errors'
import { dtypesOf, formatNames, type ExportDtype, type ExportFormat } from '../../shared/export'
import type { Store } from '../../store'
import { countParams } from '../model/params'
import type { ModelConfig } from '../model/config'
import { disposeParams, loadCheckpoint, toParams, type LoadedModel } from '../infer/load'
import { perplexity, type PerplexityResult } from '../infer/perplexity'
import { loadTokenData } from '../train/token-data'
import { modelCard } from './card'
import { exportAdapter } from './adapter'
import { toBfloat16, toFloat16 } from './floats'
import { writeGguf } from './gguf'
import { ggufModel, ggufRoundTrip } from './gguf-model'
import { fromHfTensors, hfConfig, toHfTensors, type HfHead, type HfTensor } from './hf'
import { isRewardRun, trainConfigSchema } from '../train/config'
import { dequantizeRows, quantizeRows } from './quantize'
import { bytesOf, writeSafetensors, type StoredTensor } from './safetensors'
import type { ExportQuantization, JobResults } from '../../shared/jobs'

export type { ExportDtype } from '../../shared/export'

/** What an export returns: declared with the job kind (shared/jobs.ts). */
export type ExportResult = JobResults['model.export']

export type { ExportQuantization } from '../../shared/jobs'

/** Tensors quantized to int8: the projections and the embedding, not norms or the router. */
const quantizable = (name: string) =>
  name.endsWith('_proj.weight') || name.endsWith('embed_tokens.weight') || name === 'lm_head.weight'

/**
 * Frugal's weights quantized to int8 per output channel (weight-only) and read back: the
 * post-training quantization that quantization-aware training is compared with
 * (bench:lowcost). Exports quantize as GGUF q8_0 instead (ggufRoundTrip).
 */
export function int8RoundTrip(
  config: ModelConfig,
  weights: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  const dequantized = new Map<string, HfTensor>()
  for (const [name, t] of toHfTensors(config, weights)) {
    if (!quantizable(name)) {
      dequantized.set(name, t)
      continue
    }
    const [rows, cols] = t.shape
    dequantized.set(name, {
      shape: t.shape,
      values: dequantizeRows(quantizeRows(t.values, rows, cols), rows, cols),
    })
  }
  return fromHfTensors(config, dequantized)
}

export interface ExportRequest {
  runId: string
  checkpointId?: number | null
  out: string
  format?: ExportFormat
  dtype: ExportDtype
}

/**
 * Write a checkpoint as a Hugging Face model folder: model.safetensors, config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json and a README model card.
 * With int8, the projections are quantized per output channel (quantize.ts) and the
 * validation perplexity is measured before and after, and written in the card. With
 * format 'gguf', one GGUF file instead (exportGguf).
 */
export async function exportCheckpoint(
  store: Store,
  request: ExportRequest,
  options: { onProgress?: (message: string) => void; throwIfCancelled?: () => void } = {},
): Promise<ExportResult> {
  const { dtype } = request
  const format = request.format ?? 'hf'
  if (!dtypesOf[format].includes(dtype))
    throw new UserError(
      'invalid_params',
      `A ${formatNames[format]} is written in ${dtypesOf[format].join(', ')}, not ${dtype}.`,
      'dtype',
    )
  const run = store.runs.get(request.runId)
  if (run && format !== 'hf' && headOf(run.trainConfig) === 'score')
    throw new UserError(
      'invalid_params',
      `Run ${run.name} is a reward model, which is exported as a Hugging Face folder (a sequence-classification model with one score), not as a ${formatNames[format]}.`,
      'format',
    )
  if (format === 'gguf') return exportGguf(store, request, options)
  if (format === 'peft') return exportAdapter(store, { ...request, dtype: dtype as HfDtype })
  return exportHf(store, { ...request, dtype: dtype as HfDtype }, options)
}

/** A reward run is written with its score head; every other run with its vocabulary head. */
function headOf(trainConfig: unknown): HfHead {
  return isRewardRun(trainConfigSchema.parse(trainConfig)) ? 'score' : 'lm'
}

/** The precisions of a Hugging Face or PEFT folder (checked against dtypesOf above). */
export type HfDtype = 'fp32' | 'bf16' | 'fp16'

/** A tensor in a safetensors dtype: float32, or rounded to bf16 or fp16. */
export function storedAs(dtype: HfDtype, t: HfTensor): StoredTensor {
  const data =
    dtype === 'bf16'
      ? bytesOf(toBfloat16(t.values))
      : dtype === 'fp16'
        ? bytesOf(toFloat16(t.values))
        : bytesOf(t.values)
  return {
    dtype: dtype === 'bf16' ? 'BF16' : dtype === 'fp16' ? 'F16' : 'F32',
    shape: t.shape,
    data,
  }
}

function exportHf(
  store: Store,
  request: ExportRequest & { dtype: HfDtype },
  options: { onProgress?: (message: string) => void },
): ExportResult {
  const { out, dtype } = request
  if (existsSync(out) && readdirSync(out).length > 0)
    throw new UserError('conflict', `${out} is not empty: choose a new folder.`, 'out')
  const model = loadCheckpoint(store, request.runId, request.checkpointId)
  const head = headOf(model.run.trainConfig)
  const tok = model.tokenizer
  const ids = { bos: tok.bos, eos: tok.eos, pad: tok.pad }
  const torchDtype = { fp32: 'float32', bf16: 'bfloat16', fp16: 'float16' }[dtype]
  // Made first: what cannot be written in this layout is refused before any file exists.
  const config = hfConfig(model.config, ids, torchDtype, head)
  const hf = toHfTensors(model.config, model.weights, head)
  const stored = new Map<string, StoredTensor>()
  for (const [name, t] of hf) stored.set(name, storedAs(dtype, t))

  options.onProgress?.('Writing the files')
  mkdirSync(out, { recursive: true })
  const { bytes } = writeSafetensors(join(out, 'model.safetensors'), stored, {
    format: 'pt',
    frugal_run: model.run.id,
    frugal_checkpoint: String(model.checkpoint.id),
    frugal_step: String(model.checkpoint.step),
  })
  const json = (name: string, value: unknown) =>
    writeFileSync(join(out, name), `${JSON.stringify(value, null, 2)}\n`)
  json('config.json', config)
  json('generation_config.json', {
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    pad_token_id: ids.pad,
    do_sample: true,
    temperature: 0.8,
    top_k: 0,
    top_p: 1.0,
    max_new_tokens: 200,
  })
  writeFileSync(join(out, 'tokenizer.json'), tok.serialize())
  const tokenName = (id: number | null) => (id === null ? null : tok.idToToken(id))
  json('tokenizer_config.json', {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: tokenName(ids.bos),
    eos_token: tokenName(ids.eos),
    pad_token: tokenName(ids.pad),
    model_max_length: model.config.contextLength,
    clean_up_tokenization_spaces: false,
    ...(model.chatTemplate !== null ? { chat_template: model.chatTemplate } : {}),
  })
  writeFileSync(join(out, 'README.md'), modelCard(store, model, dtype, head))
  return {
    format: 'hf',
    dir: out,
    files: readdirSync(out).sort(),
    bytes,
    dtype,
    parameters: countParams(model.config).total,
    quantization: null,
  }
}

/**
 * Write a checkpoint as one GGUF file for llama.cpp, Ollama and LM Studio (gguf-model.ts):
 * a new file; a configuration llama.cpp cannot run exactly is refused before anything is
 * written, and a write that fails leaves no file.
 */
async function exportGguf(
  store: Store,
  request: ExportRequest,
  options: { onProgress?: (message: string) => void; throwIfCancelled?: () => void },
): Promise<ExportResult> {
  const { out, dtype } = request
  if (existsSync(out))
    throw new UserError('conflict', `${out} already exists: choose a new file name.`, 'out')
  if (!existsSync(dirname(out)))
    throw new UserError(
      'not_found',
      `There is no folder ${dirname(out)} to write the file in.`,
      'out',
    )
  const model = loadCheckpoint(store, request.runId, request.checkpointId)
  const ggufDtype = dtype === 'fp32' ? 'f32' : dtype === 'fp16' ? 'f16' : 'q8_0'
  const { metadata, tensors } = ggufModel(model.config, model.weights, model.tokenizer, {
    dtype: ggufDtype,
    name: `${model.run.name} (step ${model.checkpoint.step})`,
    chatTemplate: model.chatTemplate,
  })
  options.onProgress?.('Writing the file')
  const bytes = writeGguf(out, metadata, tensors)
  let quantization: ExportQuantization | null = null
  if (ggufDtype === 'q8_0' && model.run.tokenSetId !== null) {
    options.onProgress?.('Measuring perplexity with float32 and q8_0 weights')
    const { throwIfCancelled } = options
    quantization = {
      dtype: 'q8_0',
      fp32: await validationPerplexity(store, model, model.weights, throwIfCancelled),
      quantized: await validationPerplexity(
        store,
        model,
        ggufRoundTrip(model.config, model.weights, ggufDtype),
        throwIfCancelled,
      ),
    }
  }
  return {
    format: 'gguf',
    dir: dirname(out),
    files: [basename(out)],
    bytes,
    dtype,
    parameters: countParams(model.config).total,
    quantization,
  }
}

/** Perplexity on the run's validation split (at most 32,768 tokens, to keep exports quick). */
async function validationPerplexity(
  store: Store,
  model: LoadedModel,
  weights: ReadonlyMap<string, Float32Array>,
  throwIfCancelled?: () => void,
): Promise<PerplexityResult> {
  if (model.run.tokenSetId === null)
    throw new UserError('conflict', 'This run has no encoded validation data to measure on.')
  const tokens = loadTokenData(store, model.run.tokenSetId, model.config.vocabSize).val
  const params = toParams(model.config, weights)
  try {
    return await perplexity(model.config, params, tokens, {
      maxTokens: 32_768,
      ...(throwIfCancelled ? { throwIfCancelled } : {}),
    })
  } finally {
    disposeParams(params)
  }
}
