import * as tf from '@tensorflow/tfjs-core'
import { hostChanged, hostView, ownsMemory } from '../kernels/host-views'
import { adamwInPlace, type AdamWUpdate } from '../kernels/webgpu-adamw'
import { ownedVariable } from '../model/ops'

export interface AdamWOptions {
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
}

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, p ← p − lr·(m̂/(√v̂+ε) + λ·p),
 * the decay applied only to parameters marked for it. tf.train.adam has no decoupled decay,
 * and keeping the moments as our own variables makes them checkpointable by name.
 */
export class AdamW {
  readonly m = new Map<string, tf.Variable>()
  readonly v = new Map<string, tf.Variable>()
  /** Optimizer steps taken (bias correction). */
  t = 0

  constructor(
    params: Map<string, tf.Variable>,
    private readonly decays: Set<string>,
    private readonly o: AdamWOptions,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, ownedVariable(tf.zerosLike(p), false))
      this.v.set(name, ownedVariable(tf.zerosLike(p), false))
    }
  }

  /** Apply one update. `scale` multiplies every gradient first (unscaling and clipping in one). */
  step(
    params: Map<string, tf.Variable>,
    grads: Map<string, tf.Tensor>,
    lr: number,
    scale: number,
  ): void {
    this.t++
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.o
    const c1 = 1 - b1 ** this.t
    const c2 = 1 - b2 ** this.t
    const view = hostView()
    if (view) {
      // One fused pass per tensor, in place, where tensor memory is directly addressable:
      // about five times faster than the twelve tfjs ops below on wasm (measured). Same
      // arithmetic in float32, so either path gives the same numbers to rounding. A tensor
      // whose memory another holds (a clone kept elsewhere) takes the path below, which
      // leaves that holder's values as they were.
      const shared = new Set(
        [...grads.keys()].filter((name) =>
          [params.get(name)!, this.m.get(name)!, this.v.get(name)!].some((t) => !ownsMemory(t)),
        ),
      )
      for (const [name, g0] of grads) {
        if (shared.has(name)) continue
        const decay = this.decays.has(name) ? weightDecay : 0
        const p = view(params.get(name)!)
        const m = view(this.m.get(name)!)
        const v = view(this.v.get(name)!)
        const g = view(g0)
        for (let i = 0; i < p.length; i++) {
          const gi = g[i] * scale
          const mi = b1 * m[i] + (1 - b1) * gi
          const vi = b2 * v[i] + (1 - b2) * gi * gi
          m[i] = mi
          v[i] = vi
          p[i] -= lr * (mi / c1 / (Math.sqrt(vi / c2) + eps) + decay * p[i])
        }
        hostChanged(params.get(name)!)
      }
      this.composedStep(
        [...shared].map((name) => [name, grads.get(name)!]),
        params,
        lr,
        scale,
      )
      return
    }
    // A GPU: a few parameters a launch, in place, where the backend allows it.
    const updates = new Map<AdamWUpdate, string>(
      [...grads].map(([name, g]) => [
        {
          p: params.get(name)!,
          m: this.m.get(name)!,
          v: this.v.get(name)!,
          g,
          decay: this.decays.has(name) ? weightDecay : 0,
        },
        name,
      ]),
    )
    const left = adamwInPlace([...updates.keys()], { beta1: b1, beta2: b2, c1, c2, eps, lr, scale })
    this.composedStep(
      left.map((u) => [updates.get(u)!, u.g]),
      params,
      lr,
      scale,
    )
  }

  /** The update as tfjs ops, new memory for every result: for backends without a faster path. */
  private composedStep(
    grads: [string, tf.Tensor][],
    params: Map<string, tf.Variable>,
    lr: number,
    scale: number,
  ): void {
    if (grads.length === 0) return
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.o
    const c1 = 1 - b1 ** this.t
    const c2 = 1 - b2 ** this.t
    tf.tidy(() => {
      for (const [name, g0] of grads) {
        const p = params.get(name)!
        const m = this.m.get(name)!
        const v = this.v.get(name)!
        const g = scale === 1 ? g0 : tf.mul(g0, scale)
        const m1 = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1))
        const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2))
        m.assign(m1)
        v.assign(v1)
        const update = tf.div(tf.div(m1, c1), tf.add(tf.sqrt(tf.div(v1, c2)), eps))
        const decayed =
          this.decays.has(name) && weightDecay > 0 ? tf.add(update, tf.mul(p, weightDecay)) : update
        p.assign(tf.sub(p, tf.mul(decayed, lr)))
      }
    })
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose()
  }
}
