import * as tf from '@tensorflow/tfjs-core'
import type { RopeScaling } from '../../../shared/config/model'
import { customGradient } from '../ops'

/**
 * Rotary position embedding (RoFormer; the rotate-half layout Llama and HF use): within
 * each head, x·cos + rotate_half(x)·sin, where rotate_half(x) = [-x₂, x₁] over the two
 * halves of the head. rotate_half is a fixed signed permutation, applied here as one
 * rank-2 matmul (N·H, hs) @ (hs, hs), the fastest op on wasm, instead of slicing,
 * negating and concatenating.
 */
export interface RopeTables {
  /**
   * (B·T, D) or (T, D): cos(t·θ_i) tiled over heads (and over the batch, see `tileRope`),
   * optionally pre-multiplied by a scale.
   */
  cos: tf.Tensor2D
  sin: tf.Tensor2D
  /** (hs, hs): x @ rot = rotate_half(x). */
  rot: tf.Tensor2D
}

/**
 * The rotation frequency of each pair of a head's dimensions, θ^(-2i/hs) for i < hs/2,
 * with Llama 3's scaling when given (transformers' `_compute_llama3_parameters`): long
 * wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
 */
export function ropeFrequencies(
  headWidth: number,
  theta: number,
  scaling: RopeScaling | null = null,
): Float64Array {
  const half = headWidth / 2
  const freqs = Float64Array.from({ length: half }, (_, i) => Math.pow(theta, (-2 * i) / headWidth))
  if (!scaling) return freqs
  const { factor, lowFreqFactor, highFreqFactor, originalContext } = scaling
  const lowFreqWavelength = originalContext / lowFreqFactor
  const highFreqWavelength = originalContext / highFreqFactor
  return freqs.map((f) => {
    const wavelength = (2 * Math.PI) / f
    if (wavelength < highFreqWavelength) return f
    if (wavelength > lowFreqWavelength) return f / factor
    const smooth = (originalContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
    return (1 - smooth) * (f / factor) + smooth * f
  })
}

export function ropeTables(
  T: number,
  heads: number,
  headWidth: number,
  theta: number,
  scale = 1,
  scaling: RopeScaling | null = null,
): RopeTables {
  const half = headWidth / 2
  const D = heads * headWidth
  const cos = new Float32Array(T * D)
  const sin = new Float32Array(T * D)
  const freqs = ropeFrequencies(headWidth, theta, scaling)
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * freqs[i]
      const c = Math.cos(angle) * scale
      const s = Math.sin(angle) * scale
      for (let h = 0; h < heads; h++) {
        const base = t * D + h * headWidth
        cos[base + i] = c
        cos[base + i + half] = c
        sin[base + i] = s
        sin[base + i + half] = s
      }
    }
  }
  // rotate_half: out[i] = -x[i + half] for i < half, out[i] = x[i - half] otherwise.
  const rot = new Float32Array(headWidth * headWidth)
  for (let i = 0; i < half; i++) {
    rot[(i + half) * headWidth + i] = -1 // row: input index, column: output index
    rot[i * headWidth + i + half] = 1
  }
  return {
    cos: tf.tensor2d(cos, [T, D]),
    sin: tf.tensor2d(sin, [T, D]),
    rot: tf.tensor2d(rot, [headWidth, headWidth]),
  }
}

/**
 * The same tables repeated for B sequences, (B·T, D): wasm multiplies same-shape tensors
 * several times faster than it broadcasts (T, D) over (B, T, D).
 */
export function tileRope(t: RopeTables, B: number): RopeTables {
  return { cos: tf.tile(t.cos, [B, 1]), sin: tf.tile(t.sin, [B, 1]), rot: t.rot }
}

/**
 * x: (B·T, D) with D = H·hs, rows in (batch, time) order; tables tiled to (B·T, D).
 * The rotation is linear in x, so its backward needs only the tables: with R the rotate_half
 * matrix (orthogonal, R² = −I, so Rᵀ = −R), dx = dy⊙cos + (dy⊙sin)·Rᵀ = dy⊙cos − rotate(dy⊙sin).
 * Composed of tfjs ops instead, the products kept x, its rotation and both terms for the
 * backward: four float32 copies of q and of k per layer.
 */
export function applyRope(x: tf.Tensor2D, tables: RopeTables, headWidth: number): tf.Tensor2D {
  const rotate = (t: tf.Tensor, rot: tf.Tensor) =>
    tf.reshape(tf.matMul(tf.reshape(t, [-1, headWidth]), rot), t.shape) // (B·T, D)
  const op = customGradient<tf.Tensor2D>(([xi], save) => {
    save([tables.cos, tables.sin, tables.rot])
    return {
      value: tf.add<tf.Tensor2D>(
        tf.mul(xi, tables.cos),
        tf.mul(rotate(xi, tables.rot), tables.sin),
      ),
      gradFunc: (dy, [cos, sin, rot]) => [tf.sub(tf.mul(dy, cos), rotate(tf.mul(dy, sin), rot))],
    }
  })
  return op(x)
}
