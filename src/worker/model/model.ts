import * as tf from '@tensorflow/tfjs-core'
import { expertHidden, headWidth, isMoeLayer, weightSetOf, type ModelConfig } from './config'
import { attention, attentionMask } from './layers/attention'
import { moe, type MoeStats, type MoeWeights } from './layers/moe'
import { rmsNorm } from './layers/rmsnorm'
import { ropeTables, tileRope, type RopeTables } from './layers/rope'
import { swiglu } from './layers/swiglu'
import type { Numerics } from './numerics'
import { gatherRows } from './ops'
import { names } from './params'

/** Parameters by name: tf.Variables when training, or any tensors (checkpointed backward, eval). */
export type Params = Record<string, tf.Tensor>

export const float32Numerics: Numerics = { matmul: (a, b) => tf.matMul(a, b) }

export interface BlockOptions {
  numerics: Numerics
  /**
   * DropPath keep-multipliers per token row (N, 1): 0 for a dropped sequence, 1/(1-p)
   * otherwise. Null: nothing dropped (evaluation, or rate 0).
   */
  dropPath: tf.Tensor2D | null
}

export interface BlockOutput {
  x: tf.Tensor2D
  aux: tf.Scalar | null
  moe: MoeStats | null
}

/** Per-(B, T) constants: rotary tables and the attention mask. Kept for the model's lifetime. */
interface Tables {
  ropeQ: RopeTables
  ropeK: RopeTables
  mask: tf.Tensor2D
}

const tensorsOf = (t: Tables): tf.Tensor[] => [
  t.ropeQ.cos,
  t.ropeQ.sin,
  t.ropeQ.rot,
  t.ropeK.cos,
  t.ropeK.sin,
  t.ropeK.rot,
  t.mask,
]

/**
 * A decoder-only transformer over a Params record. Layers are plain functions of
 * tensors (no tfjs-layers): MoE routing and checkpointing need direct control.
 */
export class Transformer {
  private readonly tables = new Map<string, Tables>()

  constructor(readonly config: ModelConfig) {}

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
    const c = this.config
    const s = weightSetOf(c, layer)
    const t = this.tablesFor(B, T)
    let moeStats: MoeStats | null = null
    let aux: tf.Scalar | null = null
    const y = tf.tidy(() => {
      const branch = (h: tf.Tensor2D) => (opts.dropPath ? tf.mul<tf.Tensor2D>(h, opts.dropPath) : h)
      const a = attention(
        rmsNorm(x, P[names.attnNorm(s)] as tf.Tensor1D, c.normEps),
        {
          q: P[names.q(s)] as tf.Tensor2D,
          k: P[names.k(s)] as tf.Tensor2D,
          v: P[names.v(s)] as tf.Tensor2D,
          out: P[names.attnOut(s)] as tf.Tensor2D,
        },
        { B, T, heads: c.heads, headWidth: headWidth(c) },
        t.ropeQ,
        t.ropeK,
        t.mask,
        opts.numerics,
      )
      const x1 = tf.add<tf.Tensor2D>(x, branch(a))
      const n = rmsNorm(x1, P[names.ffnNorm(s)] as tf.Tensor1D, c.normEps)
      let f: tf.Tensor2D
      if (isMoeLayer(c, layer) && c.moe) {
        const out = moe(n, this.moeWeights(P, s), c.moe, B, opts.numerics)
        f = out.y
        moeStats = out.stats
        if (out.aux) aux = tf.keep(out.aux)
      } else {
        f = swiglu(
          n,
          {
            gate: P[names.gate(s)] as tf.Tensor2D,
            up: P[names.up(s)] as tf.Tensor2D,
            down: P[names.down(s)] as tf.Tensor2D,
          },
          opts.numerics,
        )
      }
      return tf.add<tf.Tensor2D>(x1, branch(f))
    })
    return { x: y, aux, moe: moeStats }
  }

  /** Final norm and the output projection (the transposed embedding when tied): (N, D) -> (N, V). */
  head(P: Params, x: tf.Tensor2D, numerics: Numerics): tf.Tensor2D {
    const c = this.config
    return tf.tidy(() => {
      const n = rmsNorm(x, P[names.finalNorm] as tf.Tensor1D, c.normEps)
      // An explicit transpose: wasm's matmul is an order of magnitude slower with transpose flags.
      const w = c.tieEmbeddings ? tf.transpose(P[names.embed]) : P[names.lmHead]
      return numerics.matmul(n, w) as tf.Tensor2D
    })
  }

  /**
   * Logits (B·T, V) for token ids (B·T), plus the summed MoE auxiliary loss, per-layer
   * stats, and the outputs (B·T, d) of the blocks listed in `hidden` (for distillation).
   */
  forward(
    P: Params,
    ids: tf.Tensor1D,
    B: number,
    T: number,
    opts: {
      numerics?: Numerics
      dropPath?: (tf.Tensor2D | null)[]
      hidden?: readonly number[]
    } = {},
  ): {
    logits: tf.Tensor2D
    aux: tf.Scalar | null
    moe: (MoeStats | null)[]
    hidden: Map<number, tf.Tensor2D>
  } {
    const numerics = opts.numerics ?? float32Numerics
    const stats: (MoeStats | null)[] = []
    const auxes: tf.Scalar[] = []
    const wanted = opts.hidden ?? []
    const [logits, ...kept] = tf.tidy(() => {
      const states: tf.Tensor2D[] = []
      let x = this.embed(P, ids)
      for (let l = 0; l < this.config.layers; l++) {
        const out = this.block(P, l, x, B, T, { numerics, dropPath: opts.dropPath?.[l] ?? null })
        x = out.x
        if (wanted.includes(l)) states.push(x)
        stats.push(out.moe)
        if (out.aux) auxes.push(out.aux)
      }
      return [this.head(P, x, numerics), ...states]
    })
    const aux = auxes.length ? tf.tidy<tf.Scalar>(() => tf.addN(auxes)) : null
    for (const a of auxes) a.dispose()
    const layers = [...new Set(wanted)].filter((l) => l < this.config.layers).sort((a, b) => a - b)
    return { logits, aux, moe: stats, hidden: new Map(layers.map((l, i) => [l, kept[i]])) }
  }

  moeWeights(P: Params, s: number): MoeWeights {
    const moeCfg = this.config.moe!
    return {
      router: P[names.router(s)] as tf.Tensor2D,
      routerBias: P[names.routerBias(s)] as tf.Tensor1D,
      experts: Array.from({ length: moeCfg.routedExperts }, (_, e) => ({
        gate: P[names.expertGate(s, e)] as tf.Tensor2D,
        up: P[names.expertUp(s, e)] as tf.Tensor2D,
        down: P[names.expertDown(s, e)] as tf.Tensor2D,
      })),
      shared:
        moeCfg.sharedExperts > 0
          ? {
              gate: P[names.sharedGate(s)] as tf.Tensor2D,
              up: P[names.sharedUp(s)] as tf.Tensor2D,
              down: P[names.sharedDown(s)] as tf.Tensor2D,
            }
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
      const tiled = (scale: number) => {
        const base = ropeTables(T, c.heads, hs, c.ropeTheta, scale)
        const out = tileRope(base, B)
        base.cos.dispose()
        base.sin.dispose()
        return out
      }
      // q's tables carry the 1/√hs softmax scale: one multiply fewer per layer.
      t = {
        ropeQ: tiled(1 / Math.sqrt(hs)),
        ropeK: tiled(1),
        mask: attentionMask(T, c.attentionWindow, c.globalTokens),
      }
      for (const x of tensorsOf(t)) tf.keep(x)
      this.tables.set(key, t)
    }
    return t
  }

  dispose(): void {
    for (const t of this.tables.values()) for (const x of tensorsOf(t)) x.dispose()
    this.tables.clear()
  }
}

export { expertHidden }
