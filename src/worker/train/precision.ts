import * as tf from '@tensorflow/tfjs-core'
import { hasFusedKernel } from '../kernels/fused'
import { transposedProduct } from '../kernels/matmul-grad'
import { has16BitStorage, PACK16, QUANTIZE, UNPACK16 } from '../kernels/webgpu-half'
import type { Numerics } from '../model/numerics'
import { float32Numerics } from '../model/model'
import { customGradient } from '../model/ops'
import type { Precision } from '../../shared/config/train'

/**
 * Reduced-precision numerics, emulated on a float32 backend (tfjs has no 16- or 8-bit
 * float dtype). GEMM inputs are rounded to the format (round to nearest, ties to even,
 * with the format's subnormals and its overflow: ±inf, or saturation for e4m3, which has
 * no infinity) and multiplied with float32 accumulation; master weights and optimizer
 * state stay float32. Faithful to the numbers a real low-precision GEMM sees, not faster.
 */

export interface FloatFormat {
  /** Stored mantissa bits (the leading 1 is implicit). */
  mantissaBits: number
  /** Exponent of the smallest normal number; below it values are subnormal. */
  minExponent: number
  /** Largest finite value. */
  max: number
  /** Overflow becomes ±inf (true) or saturates at ±max (false, e4m3). */
  hasInf: boolean
}

export const formats: Record<Exclude<Precision, 'fp32'>, FloatFormat> = {
  bf16: { mantissaBits: 7, minExponent: -126, max: (2 - 2 ** -7) * 2 ** 127, hasInf: true },
  fp16: { mantissaBits: 10, minExponent: -14, max: 65504, hasInf: true },
  'fp8-e4m3': { mantissaBits: 3, minExponent: -6, max: 448, hasInf: false },
  'fp8-e5m2': { mantissaBits: 2, minExponent: -14, max: 57344, hasInf: true },
}

/**
 * Round every element of x to the format: one fused launch where the backend has the
 * kernel (webgpu), else tensor ops that run on any backend.
 */
export function quantize(x: tf.Tensor, f: FloatFormat): tf.Tensor {
  if (hasFusedKernel(QUANTIZE)) return tf.engine().runKernel<tf.Tensor>(QUANTIZE, { x }, { ...f })
  return tf.tidy(() => {
    const ax = tf.abs(x)
    // e = ⌊log2|x|⌋, computed approximately and then corrected exactly against 2^e.
    let e = tf.floor(tf.div(tf.log(ax), Math.LN2))
    e = tf.clipByValue(e, f.minExponent, 1000) // zeros and subnormals share the smallest exponent
    const p = tf.pow(2, e)
    e = tf.add(e, tf.cast(tf.greaterEqual(ax, tf.mul(p, 2)), 'float32'))
    e = tf.sub(e, tf.cast(tf.logicalAnd(tf.less(ax, p), tf.greater(e, f.minExponent)), 'float32'))
    const ulp = tf.pow(2, tf.sub(e, f.mantissaBits))
    // Dividing by a power of two is exact; tf.round rounds half to even.
    const r = tf.mul(tf.round(tf.div(x, ulp)), ulp)
    const limit = f.hasInf ? Infinity : f.max
    const over = tf.greater(tf.abs(r), f.max)
    return tf.where(over, tf.mul(tf.sign(x), limit), r)
  })
}

/** Scalar reference of `quantize` in float64, for tests. */
export function quantizeScalar(x: number, f: FloatFormat): number {
  if (Number.isNaN(x)) return x
  if (!Number.isFinite(x)) return f.hasInf ? x : Math.sign(x) * f.max
  if (x === 0) return x
  const ax = Math.abs(x)
  let e = Math.floor(Math.log2(ax))
  if (2 ** e > ax) e--
  if (2 ** (e + 1) <= ax) e++
  e = Math.max(e, f.minExponent)
  const ulp = 2 ** (e - f.mantissaBits)
  const scaled = ax / ulp
  const floor = Math.floor(scaled)
  const diff = scaled - floor
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor
  let q = rounded * ulp
  if (q > f.max) q = f.hasInf ? Infinity : f.max
  return Math.fround(Math.sign(x) * q)
}

/**
 * Whether the active backend keeps tensors in 16 bits for format f: bf16 and fp16 on
 * webgpu (kernels/webgpu-half.ts). Elsewhere, and for the fp8 formats, rounded values are
 * kept in float32.
 */
export function stores16Bits(f: FloatFormat): boolean {
  return has16BitStorage(f) && hasFusedKernel(PACK16)
}

/**
 * A matmul whose forward and backward GEMMs all take rounded inputs, as in an FP8/BF16
 * GEMM: y = q(a)·q(b), da = q(dy)·q(b)ᵀ, db = q(a)ᵀ·q(dy). Rounding itself passes the
 * gradient straight through. Where the backend stores 16 bits (`stores16Bits`), the
 * backward keeps the activation in 16 bits (half the memory, the same values) and rounds
 * the weight again rather than keeping a rounded copy. `shared` holds 16-bit copies that
 * several products of one input keep between them (numerics.sharedInput), by tensor id.
 */
export function lowPrecisionMatmul(
  f: FloatFormat,
  shared?: ReadonlyMap<number, tf.Tensor>,
  /** False for the output head (numerics.outputHead): its backward takes dy unrounded. */
  roundOutputGradient = true,
): Numerics['matmul'] {
  return (a, b) => {
    const packed = stores16Bits(f)
    const sharedCopy = packed ? shared?.get(a.id) : undefined
    const op = customGradient(([x, w], save) => {
      const qa = quantize(x, f)
      const qb = quantize(w, f)
      // A weight (rank 2) is there anyway: kept as it is and rounded again in the backward,
      // it costs no memory. Experts' weights stacked for this step (rank 3) are a copy the
      // backward would keep, and an activation (rank 4) too: both are packed.
      const weight = b.rank === 2
      save(packed ? [sharedCopy ?? pack16(x, f), weight ? w : pack16(w, f)] : [qa, qb])
      return {
        value: tf.matMul(qa, qb),
        gradFunc: (dy, saved) => {
          const qdy = roundOutputGradient ? quantize(dy, f) : dy
          // One operand's float32 copy at a time (each as large as what it copies; the
          // vocabulary head's weight is the largest): da with the weight's, then that copy
          // goes before db takes the activation's. Transpose flags where the backend takes
          // them (no transposed copies on webgpu).
          const sb = !packed
            ? saved[1]
            : weight
              ? quantize(saved[1], f)
              : unpack16(saved[1], f, b.shape)
          const da = transposedProduct(tf, qdy, sb, false, true)
          if (packed) sb.dispose()
          const sa = packed ? unpack16(saved[0], f, a.shape) : saved[0]
          return [da, transposedProduct(tf, sa, qdy, true, false)]
        },
      }
    })
    return op(a, b)
  }
}

/** x rounded to f (bf16 or fp16) in 16 bits a value: int32 words of two (webgpu). */
function pack16(x: tf.Tensor, f: FloatFormat): tf.Tensor {
  return tf.engine().runKernel<tf.Tensor>(PACK16, { x }, { ...f })
}

/** pack16's values back in float32, shaped `shape`. */
function unpack16(packed: tf.Tensor, f: FloatFormat, shape: number[]): tf.Tensor {
  return tf.engine().runKernel<tf.Tensor>(UNPACK16, { packed }, { ...f, shape })
}

/** How a run's precision is carried out on the active backend, for its log. */
export function describePrecision(precision: Precision): string {
  if (precision === 'fp32') return 'fp32 numerics'
  return stores16Bits(formats[precision])
    ? `${precision} numerics: matmul inputs rounded to ${precision} and kept in 16 bits for the backward pass, as are attention's q, k, v and output and the norms' and the SwiGLU gate's inputs; products accumulated in float32, the output head's gradient taken in float32`
    : `${precision} numerics, emulated: matmul inputs rounded to ${precision} and kept in float32 (${
        precision.startsWith('fp8')
          ? 'WebGPU has no 8-bit floats'
          : 'this backend has no 16-bit storage'
      }), so the run shows the format's numerical effect, not its memory saving`
}

/**
 * The numerics of a precision on the active backend (call after it is set up). 16-bit
 * formats on webgpu also let attention run fused, on q, k and v rounded to the format.
 */
export function numericsFor(precision: Precision): Numerics {
  if (precision === 'fp32') return float32Numerics
  const f = formats[precision]
  const shared = new Map<number, tf.Tensor>()
  return {
    matmul: lowPrecisionMatmul(f, shared),
    outputHead: lowPrecisionMatmul(f, shared, false),
    // lowPrecisionMatmul's own da: q(dy)·q(b)ᵀ (the head's: dy·q(b)ᵀ).
    inputGradient: (dy, b, how) =>
      tf.tidy(() =>
        transposedProduct(
          tf,
          how?.outputHead ? dy : quantize(dy, f),
          quantize(b, f),
          false,
          !how?.transposed,
        ),
      ),
    ...(stores16Bits(f)
      ? {
          attentionInputs: (t: tf.Tensor2D) => roundedStraightThrough(t, f),
          saved: {
            keep: (t: tf.Tensor) => pack16(t, f),
            restore: (kept: tf.Tensor, shape: number[]) => unpack16(kept, f, shape),
          },
          sharedInput: <T>(x: tf.Tensor, use: () => T): T => {
            if (shared.has(x.id)) return use()
            // The products keep clones of it (tfjs's save), which outlive this copy.
            const copy = pack16(x, f)
            shared.set(x.id, copy)
            try {
              return use()
            } finally {
              shared.delete(x.id)
              copy.dispose()
            }
          },
        }
      : {}),
  }
}

/** t rounded to f; the gradient passes through unchanged (as rounding's does everywhere here). */
function roundedStraightThrough(t: tf.Tensor2D, f: FloatFormat): tf.Tensor2D {
  const op = customGradient<tf.Tensor2D>(([x]) => ({
    value: quantize(x, f) as tf.Tensor2D,
    gradFunc: (dy) => [dy],
  }))
  return op(t)
}

export interface LossScaleState {
  scale: number
  /** Finite steps since the last change. */
  cleanSteps: number
  skippedSteps: number
}

/**
 * Dynamic loss scaling (PyTorch GradScaler's defaults): the loss is multiplied by the
 * scale so small gradients survive a narrow format; a step whose gradients overflow is
 * skipped and the scale halved; after `growthInterval` clean steps it doubles.
 */
export class LossScaler {
  state: LossScaleState

  constructor(
    readonly enabled: boolean,
    initialScale = 2 ** 16,
    readonly growthInterval = 2000,
    state?: LossScaleState,
  ) {
    this.state = state ?? { scale: enabled ? initialScale : 1, cleanSteps: 0, skippedSteps: 0 }
  }

  get scale(): number {
    return this.state.scale
  }

  /** Record a step's outcome; returns whether its update may be applied. */
  update(gradientsFinite: boolean): boolean {
    if (!this.enabled) {
      if (!gradientsFinite)
        this.state = { ...this.state, skippedSteps: this.state.skippedSteps + 1 }
      return gradientsFinite
    }
    if (!gradientsFinite) {
      this.state = {
        scale: Math.max(this.state.scale / 2, 2 ** -24),
        cleanSteps: 0,
        skippedSteps: this.state.skippedSteps + 1,
      }
      return false
    }
    const clean = this.state.cleanSteps + 1
    this.state =
      clean >= this.growthInterval
        ? { ...this.state, scale: Math.min(this.state.scale * 2, 2 ** 24), cleanSteps: 0 }
        : { ...this.state, cleanSteps: clean }
    return true
  }
}
