import * as tf from '@tensorflow/tfjs-core'
import { expect } from 'vitest'
import {
  inferenceConfig,
  modelConfigSchema,
  type ModelConfig,
  type ModelConfigInput,
} from '../../src/worker/model/config'
import { readsSync } from '../../src/worker/kernels/host-views'
import { Transformer, type Params } from '../../src/worker/model/model'
import { initialValues, paramSpecs } from '../../src/worker/model/params'
import { Rng } from '../../src/shared/rng'

/** Small models with random weights, for checking inference against the training forward. */

/** A model with random weights (larger than the training init, so logits differ clearly). */
export function randomModel(extra: Partial<ModelConfigInput>) {
  const config = modelConfigSchema.parse({
    vocabSize: 23,
    contextLength: 24,
    layers: 4,
    heads: 2,
    width: 16,
    initStd: 0.2,
    ...extra,
  })
  const values = initialValues(config, new Rng(5))
  const params: Params = {}
  for (const spec of paramSpecs(config)) {
    params[spec.name] = tf.tensor(values.get(spec.name)!, spec.shape)
  }
  // The aux-free router bias and attention biases are zero at init; give them values so that they count.
  for (const name of Object.keys(params))
    if (/attn\.([qkv]\.bias|[qk]_norm\.weight)$/.test(name))
      params[name] = tf.tensor1d(
        Array.from({ length: params[name].size }, (_, i) => ((i % 5) - 2) * 0.1),
      )
    else if (name.endsWith('router.bias'))
      params[name] = tf.tensor1d(
        Array.from({ length: params[name].size }, (_, i) => (i % 3) * 0.05),
      )
  return { config, params }
}

/**
 * The training forward's logits for one sequence (no MoE capacity limit): forwardAsync,
 * which every backend can run, and where reads are synchronous (wasm, cpu) the taped
 * forward too, which must agree with it.
 */
export async function fullLogits(
  config: ModelConfig,
  params: Params,
  ids: readonly number[],
): Promise<Float32Array> {
  const model = new Transformer(inferenceConfig(config))
  const input = tf.tensor1d(ids as number[], 'int32')
  const out = await model.forwardAsync(params, input, 1, ids.length)
  const values = (await out.logits.data()) as Float32Array
  tf.dispose([out.logits, ...(out.aux ? [out.aux] : [])])
  if (readsSync()) {
    const sync = model.forward(params, input, 1, ids.length)
    expect(maxDiff(sync.logits.dataSync() as Float32Array, values)).toBe(0)
    tf.dispose([sync.logits, ...(sync.aux ? [sync.aux] : [])])
  }
  input.dispose()
  model.dispose()
  return values
}

export const maxDiff = (a: Float32Array, b: Float32Array) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

export const variants: Record<string, Partial<ModelConfigInput>> = {
  dense: {},
  'sliding window, global tokens, shared layers': {
    attentionWindow: 4,
    globalTokens: 2,
    shareGroupSize: 2,
  },
  'grouped-query attention': { heads: 4, kvHeads: 2 },
  "Qwen3's QK-norm and wider heads": { qkNorm: true, headDim: 12, heads: 4, kvHeads: 2 },
  "Qwen2's attention biases, Llama 3's RoPE scaling": {
    attentionBias: true,
    ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8 },
  },
  'MoE, sigmoid, aux-free, shared expert': {
    moe: {
      routedExperts: 4,
      sharedExperts: 1,
      topK: 2,
      affinity: 'sigmoid',
      balance: 'aux-free',
      firstDenseLayers: 1,
    },
  },
  'MoE, dynamic top-p': {
    moe: {
      routedExperts: 4,
      sharedExperts: 0,
      topK: 3,
      routing: 'topp',
      topP: 0.5,
      firstDenseLayers: 1,
    },
  },
}
