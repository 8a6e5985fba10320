import * as tf from '@tensorflow/tfjs-core'
import { inferenceConfig, type ModelConfig } from '../model/config'
import { KvCache } from '../model/kv-cache'
import type { Routed } from '../model/layers/moe'
import { float32Numerics, Transformer, type BlockOptions, type Params } from '../model/model'
import { throwIfBackendFailed } from '../backend-failure'
import { trimGpuPool } from '../webgpu/device'
import { disposeParams, toParams, type LoadedModel } from './load'

/** What the views show about one forward pass over a prompt. */
export interface Inspection {
  /** Per layer: attention probabilities (H, n, n) over the prompt, row-major. */
  attention: Float32Array[]
  /** Per MoE layer: for each token, the experts it was routed to and their gate weights. */
  routing: { layer: number; tokens: { experts: number[]; weights: number[] }[] }[]
}

/**
 * Inference for one sequence with a key/value cache: the prompt is processed once
 * (prefill), then each new token costs one row through every layer, attending to the
 * cached keys and values, so generating n tokens costs O(n) rows rather than O(n²).
 *
 * The pass is the model's own (Transformer.blockAsync with `BlockOptions.cache`): the
 * blocks training runs, with one difference of configuration, no MoE capacity limit
 * (capacity is a training-time device; at inference every token gets the experts it chose,
 * as in DeepSeek-V3). Cached and uncached logits agree (tested).
 */
export class Decoder {
  readonly config: ModelConfig
  private readonly model: Transformer
  private readonly cache: KvCache

  constructor(
    config: ModelConfig,
    private readonly params: Params,
  ) {
    this.config = inferenceConfig(config)
    this.model = new Transformer(this.config)
    this.cache = new KvCache(config.layers)
  }

  /** Tokens in the cache. */
  get length(): number {
    return this.cache.length
  }

  /** Forget the sequence (the cache). */
  reset(): void {
    this.cache.reset()
  }

  /**
   * Feed tokens after the cached ones; returns their logits (n, V) as one array,
   * row-major. With `inspect`, also the attention and routing of this chunk (use it on a
   * fresh decoder: the views are over the prompt). Asynchronous: a GPU backend reads back
   * the logits (and an MoE layer its router's affinities) without blocking. A pass that
   * fails leaves the cache empty rather than half extended.
   */
  async feed(ids: readonly number[], inspect?: Inspection): Promise<Float32Array> {
    const n = ids.length
    const c = this.config
    if (n === 0) throw new Error('Nothing to feed.')
    if (this.length + n > c.contextLength)
      throw new Error(
        `The sequence would be ${this.length + n} tokens; the model's context is ${c.contextLength}.`,
      )
    const P = this.params
    const attention: tf.Tensor[] = []
    const opts: BlockOptions = {
      numerics: float32Numerics,
      dropPath: null,
      cache: this.cache,
      // Kept for Inspect: read back (all layers at once) after the pass.
      ...(inspect ? { attention: (l: number, p: tf.Tensor) => (attention[l] = tf.keep(p)) } : {}),
    }
    let x = tf.tidy(() => this.model.embed(P, tf.tensor1d(ids as number[], 'int32')))
    try {
      for (let l = 0; l < c.layers; l++) {
        const out = await this.model.blockAsync(P, l, x, 1, n, opts)
        out.aux?.dispose()
        x.dispose()
        x = out.x
        if (inspect && out.routing && out.routing !== 'device')
          inspect.routing.push({ layer: l, tokens: this.routesOf(out.routing, n) })
      }
      const logits = tf.tidy(() => this.model.head(P, x, float32Numerics)) // (n, V)
      this.cache.advance(n)
      if (inspect) {
        const probs = await Promise.all(attention.map((a) => a.data() as Promise<Float32Array>))
        probs.forEach((values, layer) => (inspect.attention[layer] = values))
      }
      const out = (await logits.data()) as Float32Array
      logits.dispose()
      throwIfBackendFailed()
      trimGpuPool() // each token makes new sizes (the cache grows)
      return out
    } catch (err) {
      this.cache.reset()
      throw err
    } finally {
      x.dispose()
      tf.dispose(attention)
    }
  }

  /** The experts each row chose and their weights, as the MoE layer computes them. */
  private routesOf(
    { plan, scores }: Routed,
    n: number,
  ): { experts: number[]; weights: number[] }[] {
    const cfg = this.config.moe!
    const E = cfg.routedExperts
    const out = Array.from({ length: n }, () => ({
      experts: [] as number[],
      weights: [] as number[],
    }))
    for (let i = 0; i < plan.chosenFlat.length; i++) {
      const t = plan.chosenToken[i]
      const e = plan.chosenFlat[i] - t * E
      out[t].experts.push(e)
      out[t].weights.push(scores[plan.chosenFlat[i]])
    }
    const normalize = cfg.routing === 'topk' && cfg.normalizeWeights && cfg.topK > 1
    for (const r of out) {
      const sum = r.weights.reduce((a, b) => a + b, 0)
      r.weights = r.weights.map((g) => (normalize && sum > 0 ? g / sum : g) * cfg.routeScale)
    }
    return out
  }

  dispose(): void {
    this.reset()
    this.model.dispose()
  }
}

/**
 * A decoder over a loaded checkpoint's weights, for `use`: the weights become tensors
 * first, and the decoder and the tensors are disposed after, however `use` ends. The one
 * lifetime every job that reads a checkpoint token by token shares.
 */
export async function withDecoder<T>(
  model: LoadedModel,
  use: (decoder: Decoder) => Promise<T>,
): Promise<T> {
  const params = toParams(model.config, model.weights)
  try {
    const decoder = new Decoder(model.config, params)
    try {
      return await use(decoder)
    } finally {
      decoder.dispose()
    }
  } finally {
    disposeParams(params)
  }
}
