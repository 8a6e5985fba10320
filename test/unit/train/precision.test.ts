import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  describePrecision,
  formats,
  LossScaler,
  lowPrecisionMatmul,
  numericsFor,
  quantize,
  quantizeScalar,
} from '../../../src/worker/train/precision'
import { probeValues } from '../../helpers/float-probes'
import { gradientError, randomTensor, setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

/** bf16 by bit manipulation of the float32: round to nearest even on the low 16 bits. */
function bf16Bits(x: number): number {
  const f = new Float32Array([x])
  const u = new Uint32Array(f.buffer)
  if (Number.isNaN(x)) return x
  u[0] = ((u[0] + 0x7fff + ((u[0] >>> 16) & 1)) & 0xffff0000) >>> 0
  return f[0]
}

describe('reduced-precision rounding', () => {
  const values = probeValues()

  for (const [name, f] of Object.entries(formats)) {
    it(`${name}: the tensor rounding equals the float64 reference on ${values.length} values`, () => {
      const got = quantize(tf.tensor1d(values), f).dataSync()
      const mismatches: string[] = []
      for (let i = 0; i < values.length; i++) {
        const want = quantizeScalar(values[i], f)
        if (!Object.is(got[i], want) && !(got[i] === 0 && want === 0))
          mismatches.push(`${values[i]} -> ${got[i]} (want ${want})`)
      }
      expect(mismatches.slice(0, 5)).toEqual([])
    })
  }

  it('bf16 equals bit-level round-to-nearest-even', () => {
    const got = quantize(tf.tensor1d(values), formats.bf16).dataSync()
    for (let i = 0; i < values.length; i++) expect(got[i]).toBe(bf16Bits(values[i]))
  })

  it('overflows to infinity, or saturates for e4m3, and keeps subnormals', () => {
    const q = (x: number, f: keyof typeof formats) =>
      quantize(tf.tensor1d([x]), formats[f]).dataSync()[0]
    expect(q(70000, 'fp16')).toBe(Infinity)
    expect(q(-70000, 'fp16')).toBe(-Infinity)
    expect(q(65519, 'fp16')).toBe(65504) // below the rounding boundary
    expect(q(65520, 'fp16')).toBe(Infinity) // the boundary rounds to even: overflow
    expect(q(1000, 'fp8-e4m3')).toBe(448)
    expect(q(-1e6, 'fp8-e4m3')).toBe(-448)
    expect(q(2 ** -24, 'fp16')).toBe(2 ** -24) // smallest fp16 subnormal
    expect(q(2 ** -26, 'fp16')).toBe(0) // underflow
    expect(q(2.5, 'fp16')).toBe(2.5)
    expect(q(1 + 2 ** -11, 'fp16')).toBe(1) // tie to even
    expect(q(1 + 3 * 2 ** -11, 'fp16')).toBe(1 + 2 ** -9) // tie to even, upwards
  })

  it("a low-precision GEMM's gradient is the float32 one within the format's precision", async () => {
    const a = randomTensor([6, 5], 1)
    const b = randomTensor([5, 4], 2)
    const g = randomTensor([6, 4], 3)
    for (const [name, f] of Object.entries(formats)) {
      const mm = lowPrecisionMatmul(f)
      // Rounding passes gradients straight through: compare with finite differences of
      // the smooth surrogate a -> Σ g ⊙ (a @ q(b)), whose gradient is g @ q(b)ᵀ exactly.
      const qb = quantize(b, f)
      const surrogate = await gradientError(
        (x) => tf.sum<tf.Scalar>(tf.mul(tf.matMul(x, qb), g)),
        [a],
      )
      expect(surrogate).toBeLessThan(1e-2)
      const [ours] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(mm(x, b), g)))([a])
      const [exact] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, qb), g)))([a])
      const rel = tf.norm(tf.sub(ours, exact)).dataSync()[0] / tf.norm(exact).dataSync()[0]
      // Only dy is rounded on top: relative error ~ 2^-(mantissa+1) per element.
      expect(rel, name).toBeLessThan(2 ** -(f.mantissaBits - 1))
    }
  })

  it("the output head's product rounds its inputs but takes its output gradient as it comes", async () => {
    const a = randomTensor([6, 5], 1)
    const b = randomTensor([5, 4], 2)
    const g = randomTensor([6, 4], 3)
    for (const [name, f] of Object.entries(formats)) {
      const numerics = numericsFor(name as keyof typeof formats)
      const outputHead = numerics.outputHead
      expect(outputHead, name).toBeDefined()
      const qa = quantize(a, f)
      const qb = quantize(b, f)
      // The same forward as any product: q(a)·q(b).
      const y = outputHead!(a, b)
      const y2 = numerics.matmul(a, b)
      expect(Array.from(await y.data()), name).toEqual(Array.from(await y2.data()))
      // The backward: da = g·q(b)ᵀ and db = q(a)ᵀ·g, g unrounded, exactly.
      const [da, db] = tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.mul(outputHead!(x, w), g)),
      )([a, b])
      const [ea, eb] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, w), g)))(
        [qa, qb],
      )
      for (const [got, want] of [
        [da, ea],
        [db, eb],
      ])
        expect(Array.from(await got.data()), name).toEqual(Array.from(await want.data()))
      tf.dispose([qa, qb, y, y2, da, db, ea, eb])
    }
    tf.dispose([a, b, g])
  })
})

describe('dynamic loss scaling', () => {
  it('halves and skips on overflow, doubles after a run of clean steps', () => {
    const s = new LossScaler(true, 1024, 3)
    expect(s.update(true)).toBe(true)
    expect(s.update(false)).toBe(false)
    expect(s.state).toEqual({ scale: 512, cleanSteps: 0, skippedSteps: 1 })
    s.update(true)
    s.update(true)
    expect(s.scale).toBe(512)
    s.update(true)
    expect(s.scale).toBe(1024)
  })

  it('still refuses non-finite gradients when scaling is off', () => {
    const s = new LossScaler(false)
    expect(s.scale).toBe(1)
    expect(s.update(false)).toBe(false)
    expect(s.state.skippedSteps).toBe(1)
    expect(s.update(true)).toBe(true)
  })
})

describe('how a run describes its precision on a CPU backend', () => {
  it('says every reduced format is emulated there', () => {
    expect(describePrecision('fp32')).toBe('fp32 numerics')
    for (const p of ['bf16', 'fp16', 'fp8-e4m3'] as const)
      expect(describePrecision(p)).toContain(`${p} numerics, emulated`)
  })
})
