import * as tf from '@tensorflow/tfjs-core'
import {
  expertHidden,
  headWidth,
  isMoeLayer,
  kvHeadsOf,
  weightSetOf,
  type ModelConfig,
} from './config'
import { attention, attentionMask } from './layers/attention'
import {
  moe,
  routeAsync,
  routesOnDeviceFor,
  type MoeReport,
  type MoeWeights,
  type Routing,
} from './layers/moe'
import { frozenTiedHead, isFrozen, type Weight } from './layers/linear'
import type { Int8Weight } from './layers/int8-weight'
import { adapterNames } from './lora'
import { rmsNorm } from './layers/rmsnorm'
import { ropeTables, tileRope, type RopeTables } from './layers/rope'
import { swiglu } from './layers/swiglu'
import type { Numerics } from './numerics'
import { gatherRows, residual } from './ops'
import { transposedProduct } from '../kernels/matmul-grad'
import type { KvCache } from './kv-cache'
import { names } from './params'
import { throwIfBackendFailed } from '../backend-failure'

/** Parameters by name: tf.Variables when training, or any tensors (checkpointed backward, eval). */
export type Params = Record<string, tf.Tensor>

export const float32Numerics: Numerics = {
  matmul: (a, b) => tf.matMul(a, b),
  inputGradient: (dy, b, how) => transposedProduct(tf, dy, b, false, !how?.transposed),
  attentionInputs: (t) => t,
}

export interface BlockOptions {
  numerics: Numerics
  /**
   * DropPath keep-multipliers per token row (N, 1): 0 for a dropped sequence, 1/(1-p)
   * otherwise. Null: nothing dropped (evaluation, or rate 0).
   */
  dropPath: tf.Tensor2D | null
  /**
   * How this layer's MoE routes (moe.ts's Routing): a plan decided beforehand (blockAsync,
   * Transformer.route), 'device', or by a synchronous read, which only CPU backends can.
   */
  routing?: Routing
  /**
   * Decoding: attend to the cached tokens too and append this pass's keys and values. One
   * sequence (B = 1) needs nothing else (its positions start at `cache.length`); rows of
   * different lengths take `tables` from `positionedTables`.
   */
  cache?: KvCache
  /** Sees each layer's attention probabilities (1, H, T, L) inside its tidy (Inspect). */
  attention?: (layer: number, probs: tf.Tensor) => void
  /** Positions and mask of packed rows (`packedTables`) instead of one sequence per row. */
  tables?: SequenceTables
  /** A training pass of a model with adapters: the seed their dropout draws from. */
  adapterSeed?: number
}

/** How a model's low-rank adapters (found in Params beside their weights) apply. */
export interface AdapterSettings {
  /** α/r. */
  scale: number
  /** Dropout on the adapters' inputs in training passes (those given an adapterSeed). */
  dropout: number
  /**
   * The frozen weights held in int8 on the host (LoRA's `int8Base`), by name: Params does
   * not hold these. A model over them without adapters in Params is the frozen base alone.
   */
  int8Bases?: ReadonlyMap<string, Int8Weight>
}

export interface ForwardOptions {
  numerics?: Numerics
  dropPath?: (tf.Tensor2D | null)[]
  /** Layers whose outputs to return (distillation's hidden states). */
  hidden?: readonly number[]
  /** Per layer: its MoE routing decided beforehand, or 'device' for every layer (see BlockOptions.routing). */
  routing?: readonly Routing[] | 'device'
  /** Packed rows (fine-tuning): their positions and mask, from `packedTables`. */
  tables?: SequenceTables
  /** See BlockOptions.adapterSeed. */
  adapterSeed?: number
  /** Decoding with a key/value cache: see BlockOptions.cache. */
  cache?: KvCache
}

/** What a model's head gives per position: next-token logits, or a reward model's score. */
export type ModelOutput = 'logits' | 'score'

export interface ForwardOutput {
  logits: tf.Tensor2D
  aux: tf.Scalar | null
  /** Per layer; a device-routed layer's is a tally tensor the caller disposes (or reads). */
  moe: (MoeReport | null)[]
  hidden: Map<number, tf.Tensor2D>
}

export interface BlockOutput {
  x: tf.Tensor2D
  aux: tf.Scalar | null
  moe: MoeReport | null
}

/**
 * Rotary tables for the B·T rows and the additive attention mask: (T, L) for one sequence
 * per row (kept for the model's lifetime, per B and T), or (B, 1, T, T) for packed rows.
 */
export interface SequenceTables {
  ropeQ: RopeTables
  ropeK: RopeTables
  mask: tf.Tensor
}
type Tables = SequenceTables

const tensorsOf = (t: Tables): tf.Tensor[] => [
  t.ropeQ.cos,
  t.ropeQ.sin,
  t.ropeQ.rot,
  t.ropeK.cos,
  t.ropeK.sin,
  t.ropeK.rot,
  t.mask,
]

/** Run a block (or its second half) in a tidy: its output and auxiliary loss survive it. */
function tidyBlock(run: () => BlockOutput): BlockOutput {
  let rest: Omit<BlockOutput, 'x'> = { aux: null, moe: null }
  const x = tf.tidy(() => {
    const out = run()
    rest = { aux: out.aux, moe: out.moe }
    return out.x
  })
  return { x, ...rest }
}

/**
 * A decoder-only transformer over a Params record. Layers are plain functions of
 * tensors (no tfjs-layers): MoE routing and checkpointing need direct control.
 */
export class Transformer {
  private readonly tables = new Map<string, Tables>()

  /**
   * `adapters`: Params may hold LoRA adapters (lora.ts's names) beside the weights they
   * adapt. `predicts`: 'logits' over the vocabulary, or 'score', a reward model's one number
   * per position from its scalar head (Params then holds score.weight).
   */
  constructor(
    readonly config: ModelConfig,
    private readonly adapters: AdapterSettings | null = null,
    readonly predicts: ModelOutput = 'logits',
  ) {}

  /** The same kind of model (its adapters, its head) with another config, e.g. inference's. */
  withConfig(config: ModelConfig): Transformer {
    return new Transformer(config, this.adapters, this.predicts)
  }

  /** A projection's weight (from Params, or held in int8), with its adapter when Params has one. */
  private weight(P: Params, name: string, seed: number | undefined): Weight {
    const base = P[name] ?? this.adapters?.int8Bases?.get(name)
    if (!base) throw new Error(`The model has no weight ${name}.`)
    if (!this.adapters) return base
    const adapter = adapterNames(name)
    const a = P[adapter.a]
    if (!a) return base
    const { scale, dropout: rate } = this.adapters
    return {
      base,
      a,
      b: P[adapter.b],
      scale,
      // Each weight its own mask, the same in a recomputation of the pass (checkpointing).
      dropout: rate > 0 && seed !== undefined ? { rate, seed: seed ^ hashName(name) } : null,
    }
  }

  /** Token ids (B·T) -> embeddings (B·T, D). */
  embed(P: Params, ids: tf.Tensor1D): tf.Tensor2D {
    return gatherRows(P[names.embed], ids) as tf.Tensor2D
  }

  /** One pre-norm block: x + attn(norm(x)), then + ffn(norm(x)), each branch DropPath-scaled. */
  block(
    P: Params,
    layer: number,
    x: tf.Tensor2D,
    B: number,
    T: number,
    opts: BlockOptions,
  ): BlockOutput {
    return tidyBlock(() =>
      this.feedForward(P, layer, this.attend(P, layer, x, B, T, opts), B, opts),
    )
  }

  /**
   * One block whose MoE routing (if it has any) is decided between its two halves by an
   * asynchronous read of the router's affinities: the block for backends that cannot
   * read synchronously, outside a gradient tape. Returns the routing too, so a later
   * pass over the same rows (the taped one, a recomputation) can reuse it. A block routed
   * on the device ('device') needs no read and is just `block`.
   */
  async blockAsync(
    P: Params,
    layer: number,
    x: tf.Tensor2D,
    B: number,
    T: number,
    opts: BlockOptions,
  ): Promise<BlockOutput & { routing: Routing }> {
    const c = this.config
    if (!(isMoeLayer(c, layer) && c.moe) || opts.routing === 'device')
      return { ...this.block(P, layer, x, B, T, opts), routing: opts.routing ?? null }
    const x1 = tf.tidy(() => this.attend(P, layer, x, B, T, opts))
    try {
      const s = weightSetOf(c, layer)
      const n = tf.tidy(() => rmsNorm(x1, P[names.ffnNorm(s)] as tf.Tensor1D, c.normEps))
      const routing = await routeAsync(n, this.moeWeights(P, s), c.moe).finally(() => n.dispose())
      const out = tidyBlock(() => this.feedForward(P, layer, x1, B, { ...opts, routing }))
      return { ...out, routing }
    } finally {
      x1.dispose()
    }
  }

  /** The attention half of a block: x + DropPath(attn(norm(x))), (N, D) -> (N, D). In a tidy. */
  private attend(
    P: Params,
    layer: number,
    x: tf.Tensor2D,
    B: number,
    T: number,
    opts: BlockOptions,
  ): tf.Tensor2D {
    const c = this.config
    const s = weightSetOf(c, layer)
    const { cache, attention: seen } = opts
    const t = opts.tables ?? (cache ? this.tablesAt(cache.length, T) : this.tablesFor(B, T))
    const a = attention(
      rmsNorm(x, P[names.attnNorm(s)] as tf.Tensor1D, c.normEps, opts.numerics.saved),
      {
        q: this.weight(P, names.q(s), opts.adapterSeed),
        k: this.weight(P, names.k(s), opts.adapterSeed),
        v: this.weight(P, names.v(s), opts.adapterSeed),
        out: this.weight(P, names.attnOut(s), opts.adapterSeed),
        ...(c.qkNorm
          ? {
              norm: {
                q: P[names.qNorm(s)] as tf.Tensor1D,
                k: P[names.kNorm(s)] as tf.Tensor1D,
                eps: c.normEps,
              },
            }
          : {}),
        ...(c.attentionBias
          ? {
              bias: {
                q: P[names.qBias(s)] as tf.Tensor1D,
                k: P[names.kBias(s)] as tf.Tensor1D,
                v: P[names.vBias(s)] as tf.Tensor1D,
              },
            }
          : {}),
      },
      {
        B,
        T,
        heads: c.heads,
        kvHeads: kvHeadsOf(c),
        headWidth: headWidth(c),
        window:
          c.attentionWindow === null
            ? null
            : { size: c.attentionWindow, globalTokens: c.globalTokens },
      },
      t.ropeQ,
      t.ropeK,
      t.mask,
      opts.numerics,
      {
        ...(cache ? { past: (k, v) => cache.extend(layer, k, v) } : {}),
        ...(seen ? { probs: (p) => seen(layer, p) } : {}),
      },
    )
    return residual(x, a, opts.dropPath)
  }

  /**
   * The feed-forward half: x1 + DropPath(ffn(norm(x1))), the ffn a SwiGLU or the MoE
   * layer. In a tidy; the auxiliary loss it returns is kept.
   */
  private feedForward(
    P: Params,
    layer: number,
    x1: tf.Tensor2D,
    B: number,
    opts: BlockOptions,
  ): BlockOutput {
    const c = this.config
    const s = weightSetOf(c, layer)
    const n = rmsNorm(x1, P[names.ffnNorm(s)] as tf.Tensor1D, c.normEps, opts.numerics.saved)
    let f: tf.Tensor2D
    let moeStats: MoeReport | null = null
    let aux: tf.Scalar | null = null
    if (isMoeLayer(c, layer) && c.moe) {
      const w = this.moeWeights(P, s, opts.adapterSeed)
      const out = moe(n, w, c.moe, B, opts.numerics, opts.routing)
      f = out.y
      moeStats = out.stats
      if (out.aux) aux = tf.keep(out.aux)
    } else {
      f = swiglu(
        n,
        {
          gate: this.weight(P, names.gate(s), opts.adapterSeed),
          up: this.weight(P, names.up(s), opts.adapterSeed),
          down: this.weight(P, names.down(s), opts.adapterSeed),
        },
        opts.numerics,
      )
    }
    const x = residual(x1, f, opts.dropPath)
    return { x, aux, moe: moeStats }
  }

  /**
   * Final norm and the output projection (the transposed embedding when tied): (N, D) ->
   * (N, V); for a reward model the scalar head instead: (N, D) -> (N, 1).
   */
  head(P: Params, x: tf.Tensor2D, numerics: Numerics): tf.Tensor2D {
    const c = this.config
    return tf.tidy(() => {
      const n = rmsNorm(x, P[names.finalNorm] as tf.Tensor1D, c.normEps, numerics.saved)
      if (this.predicts === 'score') return numerics.matmul(n, P[names.score]) as tf.Tensor2D
      const embedding = P[names.embed]
      if (c.tieEmbeddings && isFrozen(embedding) && numerics.inputGradient)
        return frozenTiedHead(n, embedding, numerics.inputGradient, numerics)
      // An explicit transpose: wasm's matmul is an order of magnitude slower with transpose flags.
      const w = c.tieEmbeddings ? tf.transpose(embedding) : P[names.lmHead]
      const logits = numerics.outputHead ? numerics.outputHead(n, w) : numerics.matmul(n, w)
      return logits as tf.Tensor2D
    })
  }

  /**
   * Logits (B·T, V) for token ids (B·T), plus the summed MoE auxiliary loss, per-layer
   * stats, and the outputs (B·T, d) of the blocks listed in `hidden` (for distillation).
   * Synchronous, so it can run on a gradient tape; an MoE model needs `opts.routing` on a
   * backend without synchronous reads (see forwardAsync and route).
   */
  forward(
    P: Params,
    ids: tf.Tensor1D,
    B: number,
    T: number,
    opts: ForwardOptions = {},
  ): ForwardOutput {
    const numerics = opts.numerics ?? float32Numerics
    const stats: (MoeReport | null)[] = []
    const auxes: tf.Scalar[] = []
    const wanted = opts.hidden ?? []
    const [logits, ...kept] = tf.tidy(() => {
      const states: tf.Tensor2D[] = []
      let x = this.embed(P, ids)
      for (let l = 0; l < this.config.layers; l++) {
        const out = this.block(P, l, x, B, T, this.blockOptions(opts, l, numerics))
        x = out.x
        if (wanted.includes(l)) states.push(x)
        stats.push(out.moe)
        if (out.aux) auxes.push(out.aux)
      }
      return [this.head(P, x, numerics), ...states]
    })
    return { ...this.output(logits, kept, auxes, wanted), moe: stats }
  }

  /**
   * The same as forward (without the MoE statistics), on any backend: where routing is on
   * the device (a GPU, with a capacity) it is forward itself; otherwise each MoE layer's
   * routing is read back asynchronously between its halves (blockAsync). Not for a
   * gradient tape (tfjs tapes are synchronous).
   */
  async forwardAsync(
    P: Params,
    ids: tf.Tensor1D,
    B: number,
    T: number,
    opts: Omit<ForwardOptions, 'routing'> = {},
  ): Promise<Omit<ForwardOutput, 'moe'>> {
    const numerics = opts.numerics ?? float32Numerics
    if (this.config.moe && routesOnDeviceFor(this.config.moe)) {
      const { moe, ...out } = this.forward(P, ids, B, T, { ...opts, routing: 'device' })
      tf.dispose(moe.filter((m): m is tf.Tensor1D => m instanceof tf.Tensor))
      throwIfBackendFailed()
      return out
    }
    const { x, states, auxes } = await this.layersAsync(P, ids, B, T, opts)
    const logits = tf.tidy(() => this.head(P, x, numerics))
    if (!(opts.hidden ?? []).includes(this.config.layers - 1)) x.dispose()
    throwIfBackendFailed()
    return this.output(logits, states, auxes, opts.hidden ?? [])
  }

  /**
   * Every MoE layer's routing for these ids, as forward would decide it: a pass without
   * the head, for a taped forward to reuse on a backend without synchronous reads. Null
   * for a dense layer; an empty list for a dense model (nothing to decide, no pass).
   */
  async route(
    P: Params,
    ids: tf.Tensor1D,
    B: number,
    T: number,
    opts: Omit<ForwardOptions, 'routing' | 'hidden'> = {},
  ): Promise<Routing[]> {
    if (!this.config.moe) return []
    const { x, auxes, routing } = await this.layersAsync(P, ids, B, T, opts)
    tf.dispose([x, ...auxes])
    return routing
  }

  /**
   * The last layer's output (B·T, D) of an untaped pass on any backend, without the head:
   * for a caller that wants the logits of a few rows only (a decoder's last tokens).
   */
  async hiddenAsync(
    P: Params,
    ids: tf.Tensor1D,
    B: number,
    T: number,
    opts: Omit<ForwardOptions, 'routing' | 'hidden'> = {},
  ): Promise<tf.Tensor2D> {
    const { x, auxes } = await this.layersAsync(P, ids, B, T, opts)
    tf.dispose(auxes)
    return x
  }

  private async layersAsync(
    P: Params,
    ids: tf.Tensor1D,
    B: number,
    T: number,
    opts: Omit<ForwardOptions, 'routing'>,
  ) {
    const numerics = opts.numerics ?? float32Numerics
    const wanted = opts.hidden ?? []
    const states: tf.Tensor2D[] = []
    const auxes: tf.Scalar[] = []
    const routing: Routing[] = []
    let x = tf.tidy(() => this.embed(P, ids))
    for (let l = 0; l < this.config.layers; l++) {
      const out = await this.blockAsync(P, l, x, B, T, this.blockOptions(opts, l, numerics))
      // x is the embedding or layer l-1's output, which stays alive if it is a wanted state.
      if (l === 0 || !wanted.includes(l - 1)) x.dispose()
      if (wanted.includes(l)) states.push(out.x)
      x = out.x
      // A host-routed layer's statistics are plain numbers: nothing to dispose.
      routing.push(out.routing)
      if (out.aux) auxes.push(out.aux)
    }
    return { x, states, auxes, routing }
  }

  private blockOptions(opts: ForwardOptions, l: number, numerics: Numerics): BlockOptions {
    const routing = opts.routing === 'device' ? 'device' : (opts.routing?.[l] ?? null)
    return {
      numerics,
      dropPath: opts.dropPath?.[l] ?? null,
      routing,
      ...(opts.tables ? { tables: opts.tables } : {}),
      ...(opts.cache ? { cache: opts.cache } : {}),
      ...(opts.adapterSeed !== undefined
        ? { adapterSeed: layerAdapterSeed(opts.adapterSeed, l) }
        : {}),
    }
  }

  /** forward's result from its pieces: the auxiliary losses summed, hidden states by layer. */
  private output(
    logits: tf.Tensor2D,
    kept: tf.Tensor2D[],
    auxes: tf.Scalar[],
    wanted: readonly number[],
  ): Omit<ForwardOutput, 'moe'> {
    const aux = auxes.length ? tf.tidy<tf.Scalar>(() => tf.addN(auxes)) : null
    for (const a of auxes) a.dispose()
    const layers = [...new Set(wanted)].filter((l) => l < this.config.layers).sort((a, b) => a - b)
    return { logits, aux, hidden: new Map(layers.map((l, i) => [l, kept[i]])) }
  }

  moeWeights(P: Params, s: number, adapterSeed?: number): MoeWeights {
    const moeCfg = this.config.moe!
    const w = (name: string) => this.weight(P, name, adapterSeed)
    return {
      router: P[names.router(s)] as tf.Tensor2D,
      routerBias: P[names.routerBias(s)] as tf.Tensor1D,
      experts: Array.from({ length: moeCfg.routedExperts }, (_, e) => ({
        gate: w(names.expertGate(s, e)),
        up: w(names.expertUp(s, e)),
        down: w(names.expertDown(s, e)),
      })),
      shared:
        moeCfg.sharedExperts > 0
          ? { gate: w(names.sharedGate(s)), up: w(names.sharedUp(s)), down: w(names.sharedDown(s)) }
          : null,
    }
  }

  private tablesFor(B: number, T: number): Tables {
    const key = `${B}x${T}`
    let t = this.tables.get(key)
    if (!t) {
      const c = this.config
      const hs = headWidth(c)
      // Kept for the model's lifetime, whatever tidy scope first asks for them.
      const tiled = (heads: number, scale: number) => {
        const base = ropeTables(T, heads, hs, c.ropeTheta, scale, c.ropeScaling)
        const out = tileRope(base, B)
        base.cos.dispose()
        base.sin.dispose()
        return out
      }
      // q's tables carry the 1/√hs softmax scale: one multiply fewer per layer.
      t = {
        ropeQ: tiled(c.heads, 1 / Math.sqrt(hs)),
        ropeK: tiled(kvHeadsOf(c), 1),
        mask: attentionMask(T, c.attentionWindow, c.globalTokens),
      }
      for (const x of tensorsOf(t)) tf.keep(x)
      this.tables.set(key, t)
    }
    return t
  }

  /**
   * Tables for T rows at positions p…p+T-1 of one sequence after p cached tokens: rows of
   * the context-length tables, and the mask over all p+T keys. Made in the caller's tidy.
   */
  private tablesAt(p: number, T: number): Tables {
    const c = this.config
    const whole = this.tablesFor(1, c.contextLength)
    const rows = (r: RopeTables): RopeTables => ({
      cos: tf.slice(r.cos, [p, 0], [T, -1]),
      sin: tf.slice(r.sin, [p, 0], [T, -1]),
      rot: r.rot,
    })
    return {
      ropeQ: rows(whole.ropeQ),
      ropeK: rows(whole.ropeK),
      mask: attentionMask(T, c.attentionWindow, c.globalTokens, p),
    }
  }

  /**
   * Tables for packed rows: each token's rotary angles at its own position (rows of the
   * context-length tables), and a causal mask (B, 1, T, T) that also keeps each token within
   * its segment, so a conversation packed after another attends exactly as it would alone.
   * The caller owns them (`disposeTables`).
   */
  packedTables(positions: Int32Array, segments: Int32Array, B: number, T: number): SequenceTables {
    return this.rowTables(
      positions,
      B,
      T,
      T,
      (row, key) =>
        key % T <= row % T &&
        segments[key] === segments[row] &&
        this.inWindow(positions[row], positions[key]),
    )
  }

  /**
   * Tables for decoding rows of different lengths with a key/value cache: this pass's T
   * tokens per row at `queries` (B·T) positions attend to the L keys per row at `keys`
   * (B·L: the cached ones, then this pass's), each key its position in its row's sequence.
   * Position −1 is padding: such a key is seen by none, such a query sees nothing (its
   * output is never read). The caller owns them (`disposeTables`).
   */
  positionedTables(queries: Int32Array, keys: Int32Array, B: number, T: number): SequenceTables {
    const L = keys.length / B
    return this.rowTables(queries, B, T, L, (row, key) => {
      const pos = queries[row]
      const kpos = keys[key]
      return kpos >= 0 && pos >= kpos && this.inWindow(pos, kpos)
    })
  }

  /** Whether a query at pos may see a key at kpos before it, by the sliding window. */
  private inWindow(pos: number, kpos: number): boolean {
    const c = this.config
    return c.attentionWindow === null || pos - kpos < c.attentionWindow || kpos < c.globalTokens
  }

  /**
   * Rotary tables at each query row's position (padding, −1, at 0) and the additive mask
   * (B, 1, T, L): 0 where `visible(row, key)` for row in B·T and key in B·L of the same
   * sequence, −1e9 elsewhere.
   */
  private rowTables(
    positions: Int32Array,
    B: number,
    T: number,
    L: number,
    visible: (row: number, key: number) => boolean,
  ): SequenceTables {
    const whole = this.tablesFor(1, this.config.contextLength)
    const at = tf.tensor1d(
      positions.map((p) => Math.max(p, 0)),
      'int32',
    )
    const rows = (r: RopeTables): RopeTables => ({
      cos: tf.gather(r.cos, at),
      sin: tf.gather(r.sin, at),
      rot: r.rot,
    })
    try {
      const m = new Float32Array(B * T * L)
      for (let b = 0; b < B; b++)
        for (let i = 0; i < T; i++) {
          const row = b * T + i
          for (let j = 0; j < L; j++) if (!visible(row, b * L + j)) m[row * L + j] = -1e9
        }
      return {
        ropeQ: rows(whole.ropeQ),
        ropeK: rows(whole.ropeK),
        mask: tf.tensor4d(m, [B, 1, T, L]),
      }
    } finally {
      at.dispose()
    }
  }

  /** Frees tables from `packedTables` (the shared rotate-half matrices stay). */
  static disposeTables(t: SequenceTables): void {
    tf.dispose([t.ropeQ.cos, t.ropeQ.sin, t.ropeK.cos, t.ropeK.sin, t.mask])
  }

  dispose(): void {
    for (const t of this.tables.values()) for (const x of tensorsOf(t)) x.dispose()
    this.tables.clear()
  }
}

export { expertHidden }

/** Layer l's adapter dropout seed in a pass seeded `seed` (layers sharing weights differ). */
export function layerAdapterSeed<S extends number | undefined>(seed: S, l: number): S {
  return (seed === undefined ? undefined : (seed + Math.imul(l, 7919)) >>> 0) as S
}

/** FNV-1a of a parameter name: a weight's own offset of a pass's dropout seed. */
function hashName(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193)
  return h >>> 0
}
