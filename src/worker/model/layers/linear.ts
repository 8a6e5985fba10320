import * as tf from '@tensorflow/tfjs-core'
import { transposedProduct } from '../../kernels/matmul-grad'
import { customGradient } from '../ops'
import type { Numerics } from '../numerics'
import { expand, isInt8Weight, stackInt8, type Int8Weight } from './int8-weight'

/**
 * A frozen weight with a low-rank adapter (LoRA, Hu et al. 2021): the product is
 *   x·W + s·(drop(x)·A)·B,   W (in, out), A (in, r), B (r, out), s = α/r,
 * or, for a stack of E experts, W (E, in, out), A (E, in, r), B (E, r, out) against rows
 * (E, C, in). Only A and B are trained; W is never differentiated, so the backward skips
 * its weight gradient (the saving LoRA is for). W may be held in int8 on the host
 * (`int8Base`): it is then expanded for the forward product and again for the backward's.
 */
export interface Adapted {
  base: tf.Tensor | Int8Weight
  a: tf.Tensor
  b: tf.Tensor
  scale: number
  /** Dropout on the adapter's input while training (a seed per pass and weight), or null. */
  dropout: { rate: number; seed: number } | null
}

/**
 * A projection's weight: a plain matrix (or stack), one held in int8 (a LoRA run's frozen
 * base seen without its adapter: GRPO's reference), or one with an adapter.
 */
export type Weight = tf.Tensor | Int8Weight | Adapted

export const isAdapted = (w: Weight): w is Adapted => !(w instanceof tf.Tensor) && !isInt8Weight(w)

/** The plain weight, or the frozen base of an adapted one. */
export const baseOf = (w: Weight): tf.Tensor | Int8Weight => (isAdapted(w) ? w.base : w)

/** numerics.matmul against a weight that may be held in int8 (expanded for this product only). */
function baseProduct(x: tf.Tensor, w: tf.Tensor | Int8Weight, numerics: Numerics): tf.Tensor {
  if (!isInt8Weight(w)) return numerics.matmul(x, w)
  const full = expand(w)
  try {
    return numerics.matmul(x, full)
  } finally {
    full.dispose()
  }
}

/**
 * x·W for any Weight. The base product goes through `numerics` (reduced precision, QAT);
 * the adapter's two thin products stay float32, like the router: they are a rounding
 * error of the cost, and rounding A and B to the base's grid would undo small updates.
 *   x: (N, in) or (E, C, in)  ->  (N, out) or (E, C, out)
 */
export function linear(x: tf.Tensor, w: Weight, numerics: Numerics): tf.Tensor {
  if (!isAdapted(w)) {
    return isFrozen(w) && numerics.inputGradient
      ? frozenProduct(x, w, numerics.inputGradient, numerics)
      : baseProduct(x, w, numerics)
  }
  if (numerics.inputGradient) return adaptedProduct(x, w, numerics)
  // Numerics that cannot give their input gradient (QAT's, which LoRA runs refuse): composed.
  if (isInt8Weight(w.base)) throw new Error('An int8 base needs numerics with an input gradient.')
  const base = w.base
  return tf.tidy(() => {
    const y = numerics.matmul(x, base)
    const input = w.dropout ? tf.dropout(x, w.dropout.rate, undefined, w.dropout.seed) : x
    const low = tf.matMul(tf.matMul(input, w.a), w.b) // (…, out), through rank r
    return tf.add(y, tf.mul(low, w.scale))
  })
}

/**
 * A weight no gradient is taken of: a variable made untrainable (a LoRA run's base
 * weights without an adapter) or one held in int8. tfjs's gradients reach only trainable
 * variables here (backprop.ts, gradients.ts), and asked for this one explicitly they fail
 * loudly, as the product below does not take W as an input.
 */
export const isFrozen = (w: tf.Tensor | Int8Weight): boolean =>
  isInt8Weight(w) || (w instanceof tf.Variable && !w.trainable)

/**
 * x·W for a frozen W, as one recorded operation whose backward is dx = dy·Wᵀ alone.
 * Its input x is not kept: only W's gradient needs it. In a LoRA run that adapts
 * attention alone, that frees each MLP's inputs (its normed input, shared by gate and up,
 * and the down-projection's (N, hidden) input) and no weight gradient is computed to be
 * dropped (a 16-bit product's custom gradient computes both of its operands').
 *   x: (…, in), W: (…, in, out)  ->  (…, out)
 */
function frozenProduct(
  x: tf.Tensor,
  w: tf.Tensor | Int8Weight,
  inputGradient: NonNullable<Numerics['inputGradient']>,
  numerics: Numerics,
): tf.Tensor {
  const op = customGradient(([input], save) => {
    if (!isInt8Weight(w)) save([w])
    return {
      value: baseProduct(input, w, numerics),
      gradFunc: (dy, saved) => inputGradient(dy, isInt8Weight(w) ? expand(w) : saved[0]),
    }
  })
  return op(x)
}

/**
 * The logits n·Eᵀ of a head tied to a frozen embedding E (a LoRA run over such a model):
 * the forward multiplies by a transposed copy of E (wasm's products are far slower with
 * transpose flags), and the backward, dx = dy·E, reads E as it is, so that (D, V) copy is
 * not kept between the passes, where it sat through the step's peak: 113 MB for
 * SmolLM2-135M's vocabulary. dy is taken as `numerics.outputHead`'s backward takes it.
 *   n: (N, D), E: (V, D)  ->  (N, V)
 */
export function frozenTiedHead(
  n: tf.Tensor2D,
  embedding: tf.Tensor,
  inputGradient: NonNullable<Numerics['inputGradient']>,
  numerics: Numerics,
): tf.Tensor2D {
  const product = (p: tf.Tensor, q: tf.Tensor) =>
    numerics.outputHead ? numerics.outputHead(p, q) : numerics.matmul(p, q)
  const op = customGradient<tf.Tensor2D>(([input], save) => {
    save([embedding])
    return {
      value: tf.tidy(() => product(input, tf.transpose(embedding)) as tf.Tensor2D),
      gradFunc: (dy, [e]) => inputGradient(dy, e, { transposed: true, outputHead: true }),
    }
  })
  return op(n)
}

/**
 * x·W + s·(drop(x)·A)·B as one recorded operation, its backward written out:
 *   g = s·dy·Bᵀ (…, r);  dx = dy·Wᵀ (as the numerics computes it) + mask ⊙ g·Aᵀ;
 *   dA = drop(x)ᵀ·g;  dB = s·(drop(x)·A)ᵀ·dy.
 * Composed of tfjs ops instead, a LoRA step held more memory than full fine-tuning: tfjs
 * keeps every gradient it computes until the backward pass ends, so each adapted
 * projection left an extra activation-sized gradient (the adapter's share of dx, summed
 * with the base's), and its Add and Mul kept their inputs. This keeps what the base
 * product alone would (x, W) plus x·A (rank r wide), and the dropout mask when there is one;
 * an int8 base is not kept as float32 between the passes but expanded again for dx.
 *   x: (…, in), W: (…, in, out), A: (…, in, r), B: (…, r, out)
 */
function adaptedProduct(x: tf.Tensor, w: Adapted, numerics: Numerics): tf.Tensor {
  const inputGradient = numerics.inputGradient!
  const mm = (p: tf.Tensor, q: tf.Tensor, tp: boolean, tq: boolean) =>
    transposedProduct(tf, p, q, tp, tq)
  const { base, scale, dropout } = w
  const op = customGradient(([input, a, b], save) => {
    // Dropout as a scaled mask (0 or 1/(1-rate)), so the backward can apply it again.
    const mask = dropout
      ? tf.dropout(tf.onesLike(input), dropout.rate, undefined, dropout.seed)
      : null
    const dropped = mask ? tf.mul(input, mask) : input
    const xa = tf.matMul(dropped, a) // (…, r)
    // Saved: dropped, a, b, xa, then the base when it is a tensor, then the mask if any.
    const held = isInt8Weight(base) ? [] : [base]
    save([dropped, a, b, xa, ...held, ...(mask ? [mask] : [])])
    return {
      value: tf.add(baseProduct(input, base, numerics), tf.mul(tf.matMul(xa, b), scale)),
      gradFunc: (dy, saved) => {
        const [sd, sa, sb, sxa] = saved
        const sw = isInt8Weight(base) ? expand(base) : saved[4]
        const smask = mask ? saved[saved.length - 1] : null
        const g = tf.mul(mm(dy, sb, false, true), scale) // (…, r)
        const fromAdapter = mm(g, sa, false, true) // (…, in)
        const dx = tf.add(inputGradient(dy, sw), smask ? tf.mul(fromAdapter, smask) : fromAdapter)
        return [dx, mm(sd, g, true, false), tf.mul(mm(sxa, dy, true, false), scale)]
      },
    }
  })
  return op(x, w.a, w.b)
}

/**
 * The experts' weights stacked for one batched product (device-routed MoE): bases
 * (E, in, out), and adapters (E, in, r), (E, r, out) when every expert has one.
 */
export function stackWeights(ws: readonly Weight[]): Weight {
  const bases = ws.map(baseOf)
  const int8 = bases.filter(isInt8Weight)
  if (int8.length !== 0 && int8.length !== bases.length)
    throw new Error('Either every expert is held in int8 or none.')
  const base = int8.length ? stackInt8(int8) : tf.stack(bases as tf.Tensor[])
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
