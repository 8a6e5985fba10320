import * as tf from '@tensorflow/tfjs-core'
import { getLlama, LlamaLogLevel, type LlamaModel, type Token } from 'node-llama-cpp'
import { expect } from 'vitest'
import { Decoder } from '../../src/worker/infer/decoder'
import type { ModelConfig } from '../../src/worker/model/config'
import type { Params } from '../../src/worker/model/model'
import { paramSpecs } from '../../src/worker/model/params'

/**
 * llama.cpp (node-llama-cpp's prebuilt CPU binaries) as an independent implementation to
 * check Frugal's models against: next-token distributions and greedy text, from llama.cpp
 * on a GGUF file and from Frugal's decoder on the same weights.
 */

/** llama.cpp on the CPU, quiet, never building from source (there is no network). */
export const loadLlama = () =>
  getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error })

/** Frugal's decoder: next-token log-probabilities at every position of `ids`, (n, V) row-major. */
export async function frugalLogProbs(
  config: ModelConfig,
  weights: Map<string, Float32Array>,
  ids: number[],
) {
  const params: Params = {}
  for (const s of paramSpecs(config)) params[s.name] = tf.tensor(weights.get(s.name)!, s.shape)
  const decoder = new Decoder(config, params)
  try {
    return logSoftmax(await decoder.feed(ids), config.vocabSize)
  } finally {
    decoder.dispose()
    tf.dispose(Object.values(params))
  }
}

/**
 * llama.cpp's next-token log-probabilities at every position of `ids`, (n, V) row-major,
 * from its full distribution at temperature 1 with no truncation. Keys and values in f32
 * and no flash attention (which computes in f16 on the CPU): llama.cpp's math at full
 * precision, to compare with Frugal's.
 */
export async function llamaLogProbs(model: LlamaModel, ids: number[], V: number) {
  const context = await model.createContext({
    contextSize: 96,
    batchSize: 96,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
    flashAttention: false,
  })
  const options = { temperature: 1, topK: V, topP: 1, minP: 0 }
  try {
    const out = await context
      .getSequence()
      .controlledEvaluate(
        tokens(ids).map(
          (t) => [t, { generateNext: { probabilities: true, options } }] as [Token, object],
        ),
      )
    const logProbs = new Float32Array(ids.length * V).fill(-Infinity)
    out.forEach((o, i) => {
      const probabilities = o!.next.probabilities!
      expect(probabilities.size).toBe(V) // the whole distribution, nothing cut off
      for (const [token, p] of probabilities) logProbs[i * V + token] = Math.log(p)
    })
    return logProbs
  } finally {
    await context.dispose()
  }
}

/** Logits (n, V) as log-probabilities: each row minus its log-sum-exp. */
export function logSoftmax(logits: Float32Array, V: number): Float32Array {
  const out = new Float32Array(logits.length)
  for (let r = 0; r < logits.length / V; r++) {
    const row = logits.subarray(r * V, (r + 1) * V)
    const max = Math.max(...row)
    const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0))
    for (let j = 0; j < V; j++) out[r * V + j] = row[j] - lse
  }
  return out
}

/** Frugal's ids as node-llama-cpp's (branded) tokens: the same numbers. */
export const tokens = (ids: number[]) => ids as Token[]

export const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)

/** Per row, how far the largest logit is above the second. */
export const margins = (logits: Float32Array, V: number) =>
  Array.from({ length: logits.length / V }, (_, r) => {
    const row = [...logits.subarray(r * V, (r + 1) * V)].sort((x, y) => y - x)
    return row[0] - row[1]
  })

export const argmaxes = (logits: Float32Array, V: number) =>
  Array.from({ length: logits.length / V }, (_, r) => {
    let best = 0
    for (let j = 1; j < V; j++) if (logits[r * V + j] > logits[r * V + best]) best = j
    return best
  })

/** Greedy continuation by llama.cpp (temperature 0), n tokens after `ids`. */
export async function llamaGreedy(model: LlamaModel, ids: number[], n: number) {
  const context = await model.createContext({ contextSize: 96, flashAttention: false })
  const out: number[] = []
  for await (const token of context.getSequence().evaluate(tokens(ids), { temperature: 0 })) {
    out.push(token)
    if (out.length === n) break
  }
  await context.dispose()
  return out
}

/** Greedy continuation by Frugal's decoder. */
export async function frugalGreedy(
  config: ModelConfig,
  weights: Map<string, Float32Array>,
  ids: number[],
  n: number,
) {
  const params: Params = {}
  for (const s of paramSpecs(config)) params[s.name] = tf.tensor(weights.get(s.name)!, s.shape)
  const decoder = new Decoder(config, params)
  const V = config.vocabSize
  const out: number[] = []
  let logits = await decoder.feed(ids)
  for (let i = 0; i < n; i++) {
    const next = argmaxes(logits.subarray(logits.length - V), V)[0]
    out.push(next)
    logits = await decoder.feed([next])
  }
  decoder.dispose()
  tf.dispose(Object.values(params))
  return out
}
