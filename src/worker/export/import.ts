import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { UserError } from '../../shared/errors'
import type { Store } from '../../store'
import { modelConfigSchema, type ModelConfig } from '../model/config'
import { paramSpecs } from '../model/params'
import { fromJSON, type Tokenizer } from '../tokenizer'
import { trainConfigSchema } from '../train/config'
import { configFromHf, fromHfTensors, type HfTensor } from './hf'
import { dequantizeRows } from './quantize'
import { readSafetensors, toFloat32 } from './safetensors'
import { writeTransaction } from '../../store/database'

/** A model folder read back: what Frugal needs to run or train from it. */
export interface HfFolder {
  config: ModelConfig
  /** Frugal's parameter names → values (float32). */
  weights: Map<string, Float32Array>
  tokenizer: Tokenizer
  tokenizerJson: string
  /** The file's weight type: F32, BF16, F16 or I8 (int8 rows dequantized with their scales). */
  dtype: string
}

const refuse = (message: string) => new UserError('invalid_params', message, 'path')

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw refuse(`${basename(path)} is not valid JSON: ${(err as Error).message}`)
  }
}

/**
 * Read a Hugging Face model folder (config.json, model.safetensors, tokenizer.json): one
 * Frugal exported, or any whose config Frugal can run the same way (configFromHf says
 * what it refuses). int8 exports are dequantized with their per-channel scales.
 */
export function readHfFolder(dir: string): HfFolder {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError('not_found', `There is no folder at ${dir}.`, 'path')
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json'])
    if (!existsSync(join(dir, file)))
      throw new UserError('not_found', `${dir} has no ${file}: is it a model folder?`, 'path')
  const config = configFromHf(readJson(join(dir, 'config.json')))
  const file = readSafetensors(join(dir, 'model.safetensors'))
  const tensors = new Map<string, HfTensor>()
  const dtypes = new Set<string>()
  for (const [name, t] of file.tensors) {
    if (name.endsWith('_scale')) continue
    dtypes.add(t.dtype)
    if (t.dtype === 'I8') {
      const scale = file.tensors.get(`${name}_scale`)
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
  const weights = fromHfTensors(config, tensors)
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
  return { config, weights, tokenizer, tokenizerJson, dtype: [...dtypes].sort().join('+') }
}

export interface ImportResult {
  runId: string
  name: string
  checkpointId: number
  tokenizerId: number
  tokenizerName: string
  parameters: number
  dtype: string
}

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
  for (const spec of paramSpecs(config)) {
    const values = folder.weights.get(spec.name)!
    tensors.set(`param/${spec.name}`, { shape: [...spec.shape], values })
    parameters += values.length
  }
  let result: ImportResult | null = null
  writeTransaction(store.db, () => {
    const tokenizerId = store.tokenizers.insert({
      name: tokenizerName,
      kind: folder.tokenizer.kind,
      vocabSize: folder.tokenizer.vocabSize,
      datasetId: null,
      options: { importedFrom: request.path },
      stats: null,
      json: folder.tokenizerJson,
      createdAt: now,
    })
    store.runs.create(
      {
        id: runId,
        name: request.name,
        modelConfig: config,
        trainConfig: trainConfigSchema.parse({}),
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
