import * as tf from '@tensorflow/tfjs-core'
import type { Numerics } from '../numerics'

/**
 * A frozen weight with a low-rank adapter (LoRA, Hu et al. 2021): the product is
 *   x·W + s·(drop(x)·A)·B,   W (in, out), A (in, r), B (r, out), s = α/r,
 * or, for a stack of E experts, W (E, in, out), A (E, in, r), B (E, r, out) against rows
 * (E, C, in). Only A and B are trained; W is never differentiated, so the backward skips
 * its weight gradient (the saving LoRA is for).
 */
export interface Adapted {
  base: tf.Tensor
  a: tf.Tensor
  b: tf.Tensor
  scale: number
  /** Dropout on the adapter's input while training (a seed per pass and weight), or null. */
  dropout: { rate: number; seed: number } | null
}

/** A projection's weight: a plain matrix (or stack), or one with an adapter. */
export type Weight = tf.Tensor | Adapted

export const isAdapted = (w: Weight): w is Adapted => !(w instanceof tf.Tensor)

/** The plain weight, or the frozen base of an adapted one. */
export const baseOf = (w: Weight): tf.Tensor => (isAdapted(w) ? w.base : w)

/**
 * x·W for any Weight. The base product goes through `numerics` (reduced precision, QAT);
 * the adapter's two thin products stay float32, like the router: they are a rounding
 * error of the cost, and rounding A and B to the base's grid would undo small updates.
 *   x: (N, in) or (E, C, in)  ->  (N, out) or (E, C, out)
 */
export function linear(x: tf.Tensor, w: Weight, numerics: Numerics): tf.Tensor {
  if (!isAdapted(w)) return numerics.matmul(x, w)
  return tf.tidy(() => {
    const y = numerics.matmul(x, w.base)
    const input = w.dropout ? tf.dropout(x, w.dropout.rate, undefined, w.dropout.seed) : x
    const low = tf.matMul(tf.matMul(input, w.a), w.b) // (…, out), through rank r
    return tf.add(y, tf.mul(low, w.scale))
  })
}

/**
 * The experts' weights stacked for one batched product (device-routed MoE): bases
 * (E, in, out), and adapters (E, in, r), (E, r, out) when every expert has one.
 */
export function stackWeights(ws: readonly Weight[]): Weight {
  const base = tf.stack(ws.map(baseOf))
  const adapted = ws.filter(isAdapted)
  if (adapted.length === 0) return base
  if (adapted.length !== ws.length) throw new Error('Either every expert has an adapter or none.')
  const first = adapted[0]
  return {
    base,
    a: tf.stack(adapted.map((w) => w.a)),
    b: tf.stack(adapted.map((w) => w.b)),
    scale: first.scale,
    dropout: first.dropout,
  }
}
