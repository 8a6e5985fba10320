import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { UserError } from '../../shared/errors'
import type { Store } from '../../store'
import { modelConfigSchema, type ModelConfig } from '../model/config'
import { paramSpecs, scoreSpec } from '../model/params'
import { fromJSON, type Tokenizer } from '../tokenizer'
import { trainConfigSchema } from '../train/config'
import { configFromHf, fromHfTensors, hfHeadOf, type HfHead, type HfTensor } from './hf'
import { dequantizeRows } from './quantize'
import { readSafetensors, toFloat32, type StoredTensor } from './safetensors'
import type { JobResults } from '../../shared/jobs'

/** A model folder read back: what Frugal needs to run or train from it. */
export interface HfFolder {
  config: ModelConfig
  /** Frugal's parameter names → values (float32). */
  weights: Map<string, Float32Array>
  tokenizer: Tokenizer
  tokenizerJson: string
  /** tokenizer_config.json's chat template (Jinja), kept for export; null without one. */
  chatTemplate: string | null
  /** The file's weight type: F32, BF16, F16 or I8 (int8 rows dequantized with their scales). */
  dtype: string
  /** A language model's head, or a reward model's score (`*ForSequenceClassification`). */
  head: HfHead
}

const refuse = (message: string) => new UserError('invalid_params', message, 'path')

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw refuse(`${basename(path)} is not valid JSON: ${(err as Error).message}`)
  }
}

const INDEX = 'model.safetensors.index.json'

/**
 * The folder's tensors: model.safetensors, or the shards that model.safetensors.index.json
 * lists (how Hugging Face saves models over its shard size), each checked to hold exactly
 * the tensors the index assigns it.
 */
function readWeights(dir: string): Map<string, StoredTensor> {
  if (existsSync(join(dir, 'model.safetensors')))
    return readSafetensors(join(dir, 'model.safetensors')).tensors
  const weightMap = readJson(join(dir, INDEX)).weight_map as Record<string, unknown> | undefined
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap))
    throw refuse(`${INDEX} has no weight_map object.`)
  const byShard = new Map<string, string[]>()
  for (const [tensor, shard] of Object.entries(weightMap)) {
    // Shards are files beside the index: no paths, so an index cannot point outside the folder.
    if (typeof shard !== 'string' || basename(shard) !== shard || !shard.endsWith('.safetensors'))
      throw refuse(`${INDEX} maps ${tensor} to ${JSON.stringify(shard)}, not a shard file name.`)
    byShard.set(shard, [...(byShard.get(shard) ?? []), tensor])
  }
  const out = new Map<string, StoredTensor>()
  for (const [shard, names] of byShard) {
    if (!existsSync(join(dir, shard)))
      throw new UserError(
        'not_found',
        `${dir} has no ${shard}, which ${INDEX} lists: the download is incomplete.`,
        'path',
      )
    const file = readSafetensors(join(dir, shard))
    for (const name of names) {
      const t = file.tensors.get(name)
      if (!t) throw refuse(`${shard} has no tensor ${name}, which ${INDEX} places there.`)
      out.set(name, t)
    }
    for (const name of file.tensors.keys())
      if (weightMap[name] !== shard)
        throw refuse(`${shard} holds ${name}, which ${INDEX} does not place there.`)
  }
  return out
}

/**
 * Read a Hugging Face model folder (config.json, model.safetensors or its shards,
 * tokenizer.json): one
 * Frugal exported, or any whose config Frugal can run the same way (configFromHf says
 * what it refuses). int8 exports are dequantized with their per-channel scales.
 */
export function readHfFolder(dir: string): HfFolder {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError('not_found', `There is no folder at ${dir}.`, 'path')
  const sharded = !existsSync(join(dir, 'model.safetensors')) && existsSync(join(dir, INDEX))
  for (const file of ['config.json', sharded ? INDEX : 'model.safetensors', 'tokenizer.json'])
    if (!existsSync(join(dir, file)))
      throw new UserError('not_found', `${dir} has no ${file}: is it a model folder?`, 'path')
  const json = readJson(join(dir, 'config.json'))
  const head = hfHeadOf(json)
  // A reward model has no vocabulary head; the embedding stands in for the one Frugal's
  // model keeps (unused when it scores).
  const config: ModelConfig =
    head === 'score' ? { ...configFromHf(json), tieEmbeddings: true } : configFromHf(json)
  const raw = readWeights(dir)
  const tensors = new Map<string, HfTensor>()
  const dtypes = new Set<string>()
  for (const [name, t] of raw) {
    if (name.endsWith('_scale')) continue
    dtypes.add(t.dtype)
    if (t.dtype === 'I8') {
      const scale = raw.get(`${name}_scale`)
      if (!scale || t.shape.length !== 2)
        throw refuse(`${name} is int8 without a per-row ${name}_scale tensor.`)
      const [rows, cols] = t.shape
      const values = new Int8Array(t.data.slice().buffer)
      tensors.set(name, {
        shape: t.shape,
        values: dequantizeRows({ values, scales: toFloat32(scale) }, rows, cols),
      })
    } else tensors.set(name, { shape: t.shape, values: toFloat32(t) })
  }
  const weights = fromHfTensors(config, tensors, head)
  const tokenizerJson = readFileSync(join(dir, 'tokenizer.json'), 'utf8')
  let tokenizer: Tokenizer
  try {
    tokenizer = fromJSON(tokenizerJson)
  } catch (err) {
    throw refuse(`tokenizer.json is not a tokenizer Frugal can read: ${(err as Error).message}`)
  }
  if (tokenizer.vocabSize > config.vocabSize)
    throw refuse(
      `The tokenizer has ${tokenizer.vocabSize} tokens but the model only ${config.vocabSize}.`,
    )
  return {
    config,
    weights,
    tokenizer,
    tokenizerJson,
    chatTemplate: readChatTemplate(dir),
    dtype: [...dtypes].sort().join('+'),
    head,
  }
}

/**
 * tokenizer_config.json's `chat_template`: one Jinja string, or a list of named ones (the
 * "default" is the chat template). Optional; Frugal does not run it, it keeps it so that
 * exports carry it to the tools that chat with the model.
 */
function readChatTemplate(dir: string): string | null {
  const path = join(dir, 'tokenizer_config.json')
  if (!existsSync(path)) return null
  const value = readJson(path).chat_template
  if (value === undefined || value === null) return null
  if (typeof value === 'string') return value
  if (Array.isArray(value)) {
    const named = value as { name?: unknown; template?: unknown }[]
    const chosen = named.find((t) => t.name === 'default') ?? named[0]
    if (typeof chosen?.template === 'string') return chosen.template
  }
  throw refuse(
    'tokenizer_config.json has a chat_template that is neither a string nor a list of named templates.',
  )
}

/** What a model import returns: declared with the job kind (shared/jobs.ts). */
export type ImportResult = JobResults['model.import']

/** A name not yet taken: "name", else "name (2)", "name (3)"... */
function freeName(taken: (name: string) => boolean, name: string): string {
  if (!taken(name)) return name
  for (let i = 2; ; i++) if (!taken(`${name} (${i})`)) return `${name} (${i})`
}

/**
 * Bring a model folder into the project as a finished run with one checkpoint (its
 * weights; no optimizer state) and its tokenizer, so it can be sampled, evaluated,
 * compared, exported, and used to initialize a new run, like any trained one.
 */
export function importModel(
  store: Store,
  request: { path: string; name: string },
  now = new Date().toISOString(),
): ImportResult {
  const folder = readHfFolder(request.path)
  const config = modelConfigSchema.parse(folder.config)
  const tokenizerName = freeName((n) => store.tokenizers.byName(n) !== null, request.name)
  const runId = `import-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>()
  let parameters = 0
  const specs =
    folder.head === 'score' ? [...paramSpecs(config), scoreSpec(config)] : paramSpecs(config)
  for (const spec of specs) {
    const values = folder.weights.get(spec.name)!
    tensors.set(`param/${spec.name}`, { shape: [...spec.shape], values })
    parameters += values.length
  }
  let result: ImportResult | null = null
  store.write(() => {
    const tokenizerId = store.tokenizers.insert({
      name: tokenizerName,
      kind: folder.tokenizer.kind,
      vocabSize: folder.tokenizer.vocabSize,
      datasetId: null,
      options: { importedFrom: request.path, chatTemplate: folder.chatTemplate },
      stats: null,
      json: folder.tokenizerJson,
      createdAt: now,
    })
    store.runs.create(
      {
        id: runId,
        name: request.name,
        modelConfig: config,
        // An imported reward model scores like a trained one (best-of-n, GRPO's reward).
        trainConfig: trainConfigSchema.parse(folder.head === 'score' ? { kind: 'reward' } : {}),
        data: { datasetId: null, tokenizerId, valFraction: 0.1, importedFrom: request.path },
        tokenSetId: null,
        parentRunId: null,
        parentCheckpointId: null,
      },
      now,
    )
    store.runs.update(runId, { status: 'completed' }, now)
    const checkpoint = store.checkpoints.write({
      runId,
      step: 0,
      reason: 'imported',
      state: { importedFrom: request.path, dtype: folder.dtype },
      tensors,
      trainLoss: null,
      valLoss: null,
      createdAt: now,
      fullEvery: 1,
    })
    result = {
      runId,
      name: request.name,
      checkpointId: checkpoint.id,
      tokenizerId,
      tokenizerName,
      parameters,
      dtype: folder.dtype,
    }
  })
  return result!
}
