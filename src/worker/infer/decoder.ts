import * as tf from '@tensorflow/tfjs-core'
import { headWidth, isMoeLayer, weightSetOf, type ModelConfig } from '../model/config'
import { moe, routeAsync, type Routed } from '../model/layers/moe'
import { rmsNorm } from '../model/layers/rmsnorm'
import { applyRope, ropeTables, type RopeTables } from '../model/layers/rope'
import { swiglu } from '../model/layers/swiglu'
import { float32Numerics, Transformer, type Params } from '../model/model'
import { names } from '../model/params'
import { throwIfGpuFailed, trimGpuPool } from '../webgpu/device'

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
 * The math is the training forward's (model/model.ts), with one difference: no MoE
 * capacity limit (capacity is a training-time device; at inference every token gets the
 * experts it chose, as in DeepSeek-V3). With capacityFactor null the logits equal
 * Transformer.forward's (tested).
 */
export class Decoder {
  readonly config: ModelConfig
  private readonly model: Transformer
  private readonly ropeQ: RopeTables
  private readonly ropeK: RopeTables
  /** Per layer: cached keys and values (L, D), or null before the first token. */
  private keys: (tf.Tensor2D | null)[]
  private values: (tf.Tensor2D | null)[]
  /** Tokens in the cache. */
  length = 0

  constructor(
    config: ModelConfig,
    private readonly params: Params,
  ) {
    this.config = config.moe ? { ...config, moe: { ...config.moe, capacityFactor: null } } : config
    this.model = new Transformer(this.config)
    const hs = headWidth(config)
    // q's tables carry the 1/√hs softmax scale, as in training.
    this.ropeQ = ropeTables(
      config.contextLength,
      config.heads,
      hs,
      config.ropeTheta,
      1 / Math.sqrt(hs),
    )
    this.ropeK = ropeTables(config.contextLength, config.heads, hs, config.ropeTheta, 1)
    this.keys = Array.from({ length: config.layers }, () => null)
    this.values = Array.from({ length: config.layers }, () => null)
  }

  /** Forget the sequence (the cache). */
  reset(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose()
    this.keys.fill(null)
    this.values.fill(null)
    this.length = 0
  }

  /**
   * Feed tokens after the cached ones; returns their logits (n, V) as one array,
   * row-major. With `inspect`, also the attention and routing of this chunk (use it on a
   * fresh decoder: the views are over the prompt). Asynchronous: a GPU backend reads back
   * the logits (and an MoE layer its router's affinities) without blocking.
   */
  async feed(ids: readonly number[], inspect?: Inspection): Promise<Float32Array> {
    const n = ids.length
    const p = this.length
    if (n === 0) throw new Error('Nothing to feed.')
    if (p + n > this.config.contextLength)
      throw new Error(
        `The sequence would be ${p + n} tokens; the model's context is ${this.config.contextLength}.`,
      )
    const c = this.config
    const attention: tf.Tensor[] = []
    let x = tf.tidy(
      () =>
        tf.gather(this.params[names.embed], tf.tensor1d(ids as number[], 'int32')) as tf.Tensor2D,
    )
    try {
      for (let l = 0; l < c.layers; l++) {
        const s = weightSetOf(c, l)
        const moeLayer = isMoeLayer(c, l) && c.moe
        // Attention, extending the cache; then the feed-forward input u = norm(x).
        const [x1, u] = tf.tidy(() => {
          const h = rmsNorm(x, this.params[names.attnNorm(s)] as tf.Tensor1D, c.normEps)
          const x1 = tf.add<tf.Tensor2D>(x, this.attend(h, l, s, p, inspect ? attention : null))
          return [x1, rmsNorm(x1, this.params[names.ffnNorm(s)] as tf.Tensor1D, c.normEps)]
        })
        x.dispose()
        x = x1
        let routed: Routed | null = null
        if (moeLayer && c.moe) {
          const r = await routeAsync(u, this.model.moeWeights(this.params, s), c.moe)
          routed = r
          if (inspect) inspect.routing.push({ layer: l, tokens: this.routesOf(r, u.shape[0]) })
        }
        const next = tf.tidy(() => {
          let f: tf.Tensor2D
          if (moeLayer && c.moe) {
            const out = moe(
              u,
              this.model.moeWeights(this.params, s),
              c.moe,
              1,
              float32Numerics,
              routed,
            )
            out.aux?.dispose()
            f = out.y
          } else {
            f = swiglu(
              u,
              {
                gate: this.params[names.gate(s)],
                up: this.params[names.up(s)],
                down: this.params[names.down(s)],
              },
              float32Numerics,
            )
          }
          return tf.add<tf.Tensor2D>(x, f)
        })
        u.dispose()
        x.dispose()
        x = next
      }
      const logits = tf.tidy(() => this.model.head(this.params, x, float32Numerics)) // (n, V)
      this.length = p + n
      if (inspect) {
        const probs = await Promise.all(attention.map((a) => a.data() as Promise<Float32Array>))
        probs.forEach((values, layer) => (inspect.attention[layer] = values))
      }
      const out = (await logits.data()) as Float32Array
      logits.dispose()
      throwIfGpuFailed()
      trimGpuPool() // each token makes new sizes (the cache grows)
      return out
    } finally {
      x.dispose()
      tf.dispose(attention)
    }
  }

  /** Causal self-attention of n new rows over the cache plus themselves: (n, D) -> (n, D). */
  private attend(
    h: tf.Tensor2D,
    layer: number,
    s: number,
    p: number,
    attention: tf.Tensor[] | null,
  ): tf.Tensor2D {
    const c = this.config
    const [n, D] = h.shape
    const H = c.heads
    const hs = headWidth(c)
    const L = p + n
    const rows = (t: RopeTables) => ({
      cos: tf.slice(t.cos, [p, 0], [n, D]),
      sin: tf.slice(t.sin, [p, 0], [n, D]),
      rot: t.rot,
    })
    const q = applyRope(tf.matMul(h, this.matrix(names.q(s))), rows(this.ropeQ), hs) // (n, D)
    const k = applyRope(tf.matMul(h, this.matrix(names.k(s))), rows(this.ropeK), hs) // (n, D)
    const v = tf.matMul<tf.Tensor2D>(h, this.matrix(names.v(s))) // (n, D)
    // Extend the cache; the old tensors are replaced (tidy does not own what we keep).
    const prevK = this.keys[layer]
    const prevV = this.values[layer]
    const K = tf.keep(prevK ? tf.concat<tf.Tensor2D>([prevK, k], 0) : k.clone()) // (L, D)
    const V = tf.keep(prevV ? tf.concat<tf.Tensor2D>([prevV, v], 0) : v.clone()) // (L, D)
    prevK?.dispose()
    prevV?.dispose()
    this.keys[layer] = K
    this.values[layer] = V

    const qh = tf.transpose(tf.reshape(q, [n, H, hs]), [1, 0, 2]) // (H, n, hs)
    const kT = tf.transpose(tf.reshape(K, [L, H, hs]), [1, 2, 0]) // (H, hs, L)
    const vh = tf.transpose(tf.reshape(V, [L, H, hs]), [1, 0, 2]) // (H, L, hs)
    const scores = tf.add(tf.matMul(qh, kT), this.mask(p, n)) // (H, n, L)
    const probs = tf.softmax(scores) // (H, n, L)
    // Kept for Inspect: read back (all layers at once) after the pass.
    if (attention) attention[layer] = tf.keep(probs)
    const out = tf.matMul(probs, vh) // (H, n, hs)
    const merged = tf.reshape(tf.transpose(out, [1, 0, 2]), [n, D]) // (n, D)
    return tf.matMul(merged, this.matrix(names.attnOut(s)))
  }

  /** A weight matrix by name (the params record holds them untyped by rank). */
  private matrix(name: string): tf.Tensor2D {
    return this.params[name] as tf.Tensor2D
  }

  /** Additive mask (n, L): row i is position p+i; the rule of model/layers/attention.ts. */
  private mask(p: number, n: number): tf.Tensor2D {
    const { attentionWindow: window, globalTokens } = this.config
    const L = p + n
    const m = new Float32Array(n * L)
    for (let i = 0; i < n; i++) {
      const pos = p + i
      for (let j = 0; j < L; j++) {
        const visible = j <= pos && (window === null || pos - j < window || j < globalTokens)
        m[i * L + j] = visible ? 0 : -1e9
      }
    }
    return tf.tensor2d(m, [n, L])
  }

  /** The experts each row chose and their weights, as the MoE layer computes them. */
  private routesOf(
    { plan, scores }: Routed & { scores: Float32Array },
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
    for (const t of [
      this.ropeQ.cos,
      this.ropeQ.sin,
      this.ropeQ.rot,
      this.ropeK.cos,
      this.ropeK.sin,
      this.ropeK.rot,
    ])
      t.dispose()
    this.model.dispose()
  }
}
