import { Rng } from '../../../shared/rng'
import { FEATURE_COUNT, type SparseVector } from './features'

/**
 * L2-regularized logistic regression trained by SGD over sparse vectors: small, fast,
 * and its score is a calibrated-enough probability of "keep". Training is seeded, so
 * the same examples give the same model (a re-run of cleaning is reproducible).
 */

export interface Example {
  x: SparseVector
  /** 1 keep, 0 remove. */
  y: 0 | 1
  weight: number
}

export interface LogisticModel {
  weights: Float32Array
  bias: number
}

export interface TrainOptions {
  epochs: number
  learningRate: number
  l2: number
  seed: number
}

export const defaultTrainOptions: TrainOptions = {
  epochs: 12,
  learningRate: 0.5,
  l2: 1e-5,
  seed: 1234,
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z))

export function predict(model: LogisticModel, x: SparseVector): number {
  let z = model.bias
  for (let i = 0; i < x.idx.length; i++) z += model.weights[x.idx[i]] * x.val[i]
  return sigmoid(z)
}

/**
 * Fit on weighted examples. Classes are reweighted to balance (rules typically keep far
 * more than they remove), so the score is not just the majority's prior.
 */
export function train(
  examples: readonly Example[],
  options: TrainOptions = defaultTrainOptions,
): LogisticModel {
  const weights = new Float32Array(FEATURE_COUNT)
  let bias = 0
  let pos = 0
  let neg = 0
  for (const e of examples) {
    if (e.y === 1) pos += e.weight
    else neg += e.weight
  }
  const total = pos + neg
  const classWeight = [neg > 0 ? total / (2 * neg) : 1, pos > 0 ? total / (2 * pos) : 1]
  const order = examples.map((_, i) => i)
  const rng = new Rng(options.seed)
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    const lr = options.learningRate / (1 + epoch)
    for (const k of order) {
      const e = examples[k]
      const g = (predict({ weights, bias }, e.x) - e.y) * e.weight * classWeight[e.y]
      const step = Math.max(-4, Math.min(4, g)) * lr
      for (let i = 0; i < e.x.idx.length; i++) {
        const f = e.x.idx[i]
        weights[f] -= step * e.x.val[i] + lr * options.l2 * weights[f]
      }
      bias -= step
    }
  }
  // The bias as it is stored (float32, like the weights): a document scored with this model
  // and one scored with the stored copy (a worker thread) get the same score to the bit.
  return { weights, bias: Math.fround(bias) }
}

/** Fraction of examples on the right side of 0.5. */
export function accuracy(model: LogisticModel, examples: readonly Example[]): number | null {
  if (examples.length === 0) return null
  let right = 0
  for (const e of examples) if (predict(model, e.x) >= 0.5 === (e.y === 1)) right++
  return right / examples.length
}

/** Weights as a BLOB (float32, little-endian) with the bias as the last value. */
export function serializeModel(model: LogisticModel): Buffer {
  const out = new Float32Array(model.weights.length + 1)
  out.set(model.weights)
  out[model.weights.length] = model.bias
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
}

export function deserializeModel(blob: Uint8Array): LogisticModel {
  const copy = new Float32Array(blob.byteLength / 4)
  new Uint8Array(copy.buffer).set(blob)
  if (copy.length !== FEATURE_COUNT + 1)
    throw new Error(`Quality model has ${copy.length - 1} weights, expected ${FEATURE_COUNT}`)
  return { weights: copy.subarray(0, FEATURE_COUNT), bias: copy[FEATURE_COUNT] }
}
