import * as tf from '@tensorflow/tfjs-core'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hasFusedKernel, setFusedKernels } from '../../../src/worker/kernels/fused'
import { ATTENTION } from '../../../src/worker/kernels/webgpu-attention'
import { CROSS_ENTROPY } from '../../../src/worker/kernels/webgpu-cross-entropy'
import { PACK16, QUANTIZE, UNPACK16 } from '../../../src/worker/kernels/webgpu-half'
import { RMSNORM } from '../../../src/worker/kernels/webgpu-rmsnorm'
import { SWIGLU } from '../../../src/worker/kernels/webgpu-swiglu'
import { attention, attentionMask } from '../../../src/worker/model/layers/attention'
import { rmsNorm } from '../../../src/worker/model/layers/rmsnorm'
import { ropeTables, tileRope } from '../../../src/worker/model/layers/rope'
import { float32Numerics } from '../../../src/worker/model/model'
import type { Numerics } from '../../../src/worker/model/numerics'
import {
  describePrecision,
  formats,
  lowPrecisionMatmul,
  numericsFor,
  quantizeScalar,
  stores16Bits,
} from '../../../src/worker/train/precision'
import { probeValues } from '../../helpers/float-probes'
import { swigluGate } from '../../../src/worker/model/layers/swiglu'
import { crossEntropy } from '../../../src/worker/model/loss'
import { gradientsOf } from '../../../src/worker/train/backprop'
import { bufferBytes, probe, randomTensor, setupTf, testBackend } from '../../helpers/tfjs'

/**
 * Frugal's fused webgpu kernels against the tfjs ops they replace: values and gradients
 * of each input, on shapes that do not divide the workgroups evenly. Runs in the webgpu
 * suite (`npm run test:webgpu`); the CPU backends have no fused kernels.
 */
describe.runIf(testBackend === 'webgpu')('fused webgpu kernels', () => {
  beforeAll(async () => {
    await setupTf()
  })
  afterEach(() => setFusedKernels(true))

  /** f's value and its gradients with respect to every input, fused and composed. */
  async function both(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]) {
    const run = async (fused: boolean) => {
      setFusedKernels(fused)
      // A fixed random cotangent, so every output element's gradient counts.
      const y = f(...inputs)
      const dy = randomTensor(y.shape, 99)
      const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), dy)))(inputs)
      const out = [await y.data(), ...(await Promise.all(grads.map((g) => g.data())))]
      tf.dispose([y, dy, ...grads])
      return out
    }
    const fused = await run(true)
    const composed = await run(false)
    setFusedKernels(true)
    return { fused, composed }
  }

  function expectClose(
    a: ArrayLike<number>,
    b: ArrayLike<number>,
    tolerance: number,
    what: string,
  ) {
    expect(a.length, what).toBe(b.length)
    let worst = 0
    let scale = 1e-6
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]))
      scale = Math.max(scale, Math.abs(b[i]))
    }
    expect(worst / scale, what).toBeLessThan(tolerance)
  }

  it('RMSNorm: values and the gradients of x and w match the composed ops', async () => {
    expect(hasFusedKernel(RMSNORM)).toBe(true)
    // Rows under and over one dw block (32 rows); widths under, at and over a workgroup.
    for (const [N, D] of [
      [5, 48],
      [70, 64],
      [33, 700],
    ]) {
      const x = randomTensor([N, D], N + D)
      const w = randomTensor([D], 3)
      const { fused, composed } = await both(
        (a, b) => rmsNorm(a as tf.Tensor2D, b as tf.Tensor1D, 1e-5),
        [x, w],
      )
      for (let i = 0; i < 3; i++)
        expectClose(fused[i], composed[i], 1e-5, `output ${i} of (${N}, ${D})`)
      tf.dispose([x, w])
    }
  })

  it('SwiGLU gate: silu(g) ⊙ u and the gradients of g and u match the composed ops', async () => {
    expect(hasFusedKernel(SWIGLU)).toBe(true)
    // Rank 3 as the stacked experts use it; 3·5·67 elements take the one-a-thread path,
    // 4·6·8 the vec4 one.
    for (const shape of [
      [3, 5, 67],
      [4, 6, 8],
    ]) {
      const g = randomTensor(shape, 1, 4)
      const u = randomTensor(shape, 2)
      const { fused, composed } = await both((a, b) => swigluGate(a, b), [g, u])
      for (let i = 0; i < 3; i++)
        expectClose(fused[i], composed[i], 1e-5, `output ${i} of ${shape.join('×')}`)
      tf.dispose([g, u])
    }
  })

  it('cross-entropy: the loss and the gradient of the logits match, with smoothing and row weights', async () => {
    expect(hasFusedKernel(CROSS_ENTROPY)).toBe(true)
    const [N, V] = [37, 1000]
    // Large logits: the log-sum-exp must not overflow.
    const z = randomTensor([N, V], 5, 30)
    const t = tf.tensor1d(
      Array.from({ length: N }, (_, i) => (i * 7919) % V),
      'int32',
    )
    const weights = tf.tensor1d(Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 0 : 1.5)))
    for (const [smoothing, w] of [
      [0, null],
      [0.1, weights],
    ] as const) {
      const { fused, composed } = await both(
        (a) => crossEntropy(a as tf.Tensor2D, t, smoothing, w),
        [z],
      )
      expect(Number.isFinite(fused[0][0])).toBe(true)
      for (let i = 0; i < 2; i++)
        expectClose(fused[i], composed[i], 1e-5, `output ${i}, smoothing ${smoothing}`)
    }
    tf.dispose([z, t, weights])
  })

  it('attention: values and the gradients of x and every projection match, causal, windowed, grouped, packed, cached', async () => {
    expect(hasFusedKernel(ATTENTION)).toBe(true)
    const [B, H, hs] = [2, 4, 16]
    const D = H * hs
    // T = 70: two query tiles (64 rows each), the second partly empty; 150 for the window,
    // so that a block of keys lies wholly before some queries' windows.
    const T0 = 70
    const packed = (() => {
      // Two documents per row, split at 30 and 41: each token sees its own document only.
      const m = new Float32Array(B * T0 * T0)
      for (let b = 0; b < B; b++) {
        const cut = b === 0 ? 30 : 41
        for (let i = 0; i < T0; i++)
          for (let j = 0; j < T0; j++) {
            const visible = j <= i && i < cut === j < cut
            m[(b * T0 + i) * T0 + j] = visible ? 0 : -1e9
          }
      }
      return tf.tensor4d(m, [B, 1, T0, T0])
    })()
    // The windowed case tells the kernels the window, so they skip the tiles it hides.
    const cases = [
      { name: 'causal', T: T0, mask: attentionMask(T0, null, 0), kvHeads: H, window: null },
      {
        name: 'window 8 + 2 global',
        T: 150,
        mask: attentionMask(150, 8, 2),
        kvHeads: H,
        window: { size: 8, globalTokens: 2 },
      },
      { name: 'grouped-query', T: T0, mask: attentionMask(T0, null, 0), kvHeads: 2, window: null },
      { name: 'packed rows', T: T0, mask: packed, kvHeads: 1, window: null },
    ]
    for (const { name, T, mask, kvHeads, window } of cases) {
      const inputs = [
        randomTensor([B * T, D], 11),
        randomTensor([D, D], 12, 0.3),
        randomTensor([D, kvHeads * hs], 13, 0.3),
        randomTensor([D, kvHeads * hs], 14, 0.3),
        randomTensor([D, D], 15, 0.3),
      ]
      const ropeQ = tileRope(ropeTables(T, H, hs, 1e4, 1 / Math.sqrt(hs)), B)
      const ropeK = tileRope(ropeTables(T, kvHeads, hs, 1e4), B)
      const { fused, composed } = await both(
        (x, q, k, v, out) =>
          attention(
            x as tf.Tensor2D,
            { q, k, v, out },
            { B, T, heads: H, kvHeads, headWidth: hs, window },
            ropeQ,
            ropeK,
            mask,
            float32Numerics,
          ),
        inputs,
      )
      for (let i = 0; i < 6; i++) expectClose(fused[i], composed[i], 1e-4, `${name}: output ${i}`)
      tf.dispose([...inputs, mask, ropeQ.cos, ropeQ.sin, ropeK.cos, ropeK.sin])
    }
  })

  it('attention after a key/value cache: 3 new queries over 10 keys', async () => {
    const [T, L, H, hs] = [3, 10, 2, 8]
    const q = randomTensor([T, H * hs], 1)
    const k = randomTensor([L, H * hs], 2)
    const v = randomTensor([L, H * hs], 3)
    const mask = attentionMask(T, null, 0, L - T)
    const identity = tf.eye(H * hs)
    const rope = ropeTables(T, H, hs, 1e4)
    const run = async (fused: boolean) => {
      setFusedKernels(fused)
      const y = attention(
        q as tf.Tensor2D,
        { q: identity, k: identity, v: identity, out: identity },
        { B: 1, T, heads: H, kvHeads: H, headWidth: hs },
        rope,
        rope,
        mask,
        float32Numerics,
        { past: () => [k as tf.Tensor2D, v as tf.Tensor2D] },
      )
      const out = await y.data()
      y.dispose()
      return out
    }
    expectClose(await run(true), await run(false), 1e-5, 'cached')
    tf.dispose([q, k, v, mask, identity, rope.cos, rope.sin, rope.rot])
  })

  it('rounding to each format in one launch equals the float64 reference, bit for bit', async () => {
    const values = Float32Array.from([...probeValues(), Infinity, -Infinity, NaN, 1e-40, -1e-39])
    const x = tf.tensor1d(values)
    for (const [name, f] of Object.entries(formats)) {
      const q = tf.engine().runKernel<tf.Tensor>(QUANTIZE, { x }, { ...f })
      const got = await q.data()
      q.dispose()
      let wrong = 0
      let example = ''
      for (let i = 0; i < values.length; i++) {
        const want = quantizeScalar(values[i], f)
        const same = got[i] === want || (Number.isNaN(got[i]) && Number.isNaN(want))
        // A GPU may flush float32 subnormal inputs to zero: they round to ±0 either way.
        const flushed = Math.abs(values[i]) < 2 ** -126 && got[i] === 0 && want === 0
        if (!same && !flushed) {
          wrong++
          example ||= `${values[i]} -> ${got[i]}, want ${want}`
        }
      }
      expect(wrong, `${name}: ${example}`).toBe(0)
    }
    x.dispose()
  })

  it('16-bit storage: packing to bf16 or fp16 and unpacking gives the rounded values, at half the bytes', async () => {
    // An odd count: the last word holds one value.
    const values = Float32Array.from([...probeValues().slice(0, 4001), Infinity, -Infinity, NaN])
    const x = tf.tensor2d(values, [1, values.length])
    for (const name of ['bf16', 'fp16'] as const) {
      const f = formats[name]
      const packed = tf.engine().runKernel<tf.Tensor>(PACK16, { x }, { ...f })
      expect(packed.dtype).toBe('int32')
      expect(packed.size).toBe(Math.ceil(values.length / 2))
      const back = tf.engine().runKernel<tf.Tensor>(UNPACK16, { packed }, { ...f, shape: x.shape })
      expect(back.shape).toEqual(x.shape)
      const got = await back.data()
      let wrong = 0
      let example = ''
      for (let i = 0; i < values.length; i++) {
        const want = quantizeScalar(values[i], f)
        if (!(got[i] === want || (Number.isNaN(got[i]) && Number.isNaN(want)))) {
          wrong++
          example ||= `${values[i]} -> ${got[i]}, want ${want}`
        }
      }
      expect(wrong, `${name}: ${example}`).toBe(0)
      tf.dispose([packed, back])
    }
    x.dispose()
  })

  /** The bytes of GPU buffers in use, each buffer once. */
  const buffersInUse = () => bufferBytes()!()

  /** Bytes alive when the backward reaches the op's output, and the input gradients. */
  async function heldBetweenPasses(
    f: (...xs: tf.Tensor[]) => tf.Tensor,
    inputs: tf.Tensor[],
    bytes: () => number,
  ) {
    const seen: number[] = []
    const shape = tf.tidy(() => f(...inputs).shape)
    const dy = randomTensor(shape, 5)
    const before = bytes()
    const grads = gradientsOf((...xs) => tf.sum(tf.mul(probe(f(...xs), seen, bytes), dy)))(inputs)
    const values = await Promise.all(grads.map((g) => g.data()))
    tf.dispose([dy, ...grads])
    expect(seen).toHaveLength(1)
    return { held: seen[0] - before, values }
  }

  /** Gradients within bf16's step of float32's: the largest difference against the largest value. */
  function expectWithinBf16(plain: ArrayLike<number>[], half: ArrayLike<number>[], what: string) {
    for (let i = 0; i < plain.length; i++) {
      const scale = Math.max(...Array.from(plain[i], Math.abs))
      const worst = Math.max(...Array.from(plain[i], (v, j) => Math.abs(v - half[i][j])))
      expect(worst / scale, `${what}: gradient ${i}`).toBeLessThan(2 ** -6)
    }
  }

  it("16-bit runs keep RMSNorm's and the SwiGLU gate's inputs in 16 bits for the backward", async () => {
    const store = numericsFor('bf16').saved
    expect(store).toBeDefined()
    expect(numericsFor('fp32').saved).toBeUndefined()
    const x = randomTensor([256, 128], 1, 2)
    const w = randomTensor([128], 2)
    const u = randomTensor([256, 128], 3)
    const bytes = 256 * 128 * 4
    for (const [what, f, inputs, kept] of [
      [
        'RMSNorm',
        (s?: typeof store) => (a: tf.Tensor, b: tf.Tensor) =>
          rmsNorm(a as tf.Tensor2D, b as tf.Tensor1D, 1e-5, s),
        [x, w],
        1,
      ],
      [
        'SwiGLU gate',
        (s?: typeof store) => (a: tf.Tensor, b: tf.Tensor) => swigluGate(a, b, s),
        [x, u],
        2,
      ],
    ] as const) {
      // tfjs's count of tensor bytes: the op's saved clone of an input counts, as in a model
      // it would (the input being an activation nothing else keeps).
      const tensorBytes = () => tf.memory().numBytes
      const plain = await heldBetweenPasses(f(), [...inputs], tensorBytes)
      const half = await heldBetweenPasses(f(store), [...inputs], tensorBytes)
      // What the op keeps between the passes: half the bytes of its float32 inputs.
      expect(plain.held - half.held, what).toBe((kept * bytes) / 2)
      // The backward sees its inputs rounded to bf16.
      expectWithinBf16(plain.values, half.values, what)
    }
    tf.dispose([x, w, u])
  })

  it("16-bit runs keep attention's q, k, v and output in 16 bits, and one copy of the input its projections read", async () => {
    const bf16 = numericsFor('bf16')
    expect(bf16.sharedInput).toBeDefined()
    // The same products, with attention keeping float32 and each projection its own copy.
    const unshared: Numerics = {
      matmul: (a, b) => bf16.matmul(a, b),
      attentionInputs: bf16.attentionInputs,
    }
    const [B, T, H, Hkv, hs] = [2, 64, 4, 2, 16]
    const [N, D, Dkv] = [B * T, H * hs, Hkv * hs]
    const mask = attentionMask(T, null, 0)
    const ropeQ = tileRope(ropeTables(T, H, hs, 1e4, 1 / Math.sqrt(hs)), B)
    const ropeK = tileRope(ropeTables(T, Hkv, hs, 1e4), B)
    const inputs = [
      randomTensor([N, D], 11),
      randomTensor([D, D], 12, 0.3),
      randomTensor([D, Dkv], 13, 0.3),
      randomTensor([D, Dkv], 14, 0.3),
      randomTensor([D, D], 15, 0.3),
    ]
    const run =
      (numerics: Numerics) =>
      (x: tf.Tensor, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, out: tf.Tensor) =>
        attention(
          x as tf.Tensor2D,
          { q, k, v, out },
          { B, T, heads: H, kvHeads: Hkv, headWidth: hs },
          ropeQ,
          ropeK,
          mask,
          numerics,
        )
    const plain = await heldBetweenPasses(run(unshared), inputs, buffersInUse)
    const half = await heldBetweenPasses(run(bf16), inputs, buffersInUse)
    // Kept between the passes, in bytes: q and the output (N, D) and k and v (N, Dkv) at 2
    // bytes a value instead of 4, and x's 16-bit copy once instead of three times.
    const attentionSaving = (2 * N * D + 2 * N * Dkv) * 2
    const sharingSaving = 2 * N * D * 2
    expect(plain.held - half.held).toBe(attentionSaving + sharingSaving)
    // q, k and v were rounded already; the output, kept rounded, enters only the backward's
    // softmax statistics.
    expectWithinBf16(plain.values, half.values, 'attention')
    tf.dispose([...inputs, mask, ropeQ.cos, ropeQ.sin, ropeK.cos, ropeK.sin])
  })

  it('products that share an input compute exactly what they compute apart', async () => {
    const bf16 = numericsFor('bf16')
    const x = randomTensor([96, 64], 1)
    const ws = [randomTensor([64, 32], 2, 0.2), randomTensor([64, 48], 3, 0.2)]
    const products =
      (shared: boolean) =>
      (a: tf.Tensor, ...w: tf.Tensor[]) => {
        const both = () => w.map((wi) => bf16.matmul(a, wi))
        const ys = shared ? bf16.sharedInput!(a, both) : both()
        return tf.add(tf.sum(ys[0]), tf.sum(tf.square(ys[1])))
      }
    const apart = await heldBetweenPasses(products(false), [x, ...ws], buffersInUse)
    const together = await heldBetweenPasses(products(true), [x, ...ws], buffersInUse)
    expect(apart.held - together.held).toBe(96 * 64 * 2)
    for (let i = 0; i < apart.values.length; i++)
      expect(Array.from(together.values[i]), `gradient ${i}`).toEqual(Array.from(apart.values[i]))
    tf.dispose([x, ...ws])
  })

  it('bf16 and fp16 GEMMs keep their inputs in 16 bits and compute what the float32 emulation does', async () => {
    for (const name of ['bf16', 'fp16'] as const) {
      const f = formats[name]
      expect(stores16Bits(f)).toBe(true)
      // A weight (rank 2: rounded again in the backward), experts' rows against their
      // stacked weights (rank 3: the stack kept in 16 bits) and attention's product of two
      // activations (rank 4: both kept in 16 bits).
      for (const [sa, sb] of [
        [
          [33, 24],
          [24, 17],
        ],
        [
          [3, 5, 8],
          [3, 8, 7],
        ],
        [
          [2, 3, 5, 8],
          [2, 3, 8, 7],
        ],
      ]) {
        const a = randomTensor(sa, 7, 3)
        const b = randomTensor(sb, 8)
        // Emulated (fused off): composed rounding, float32 kept; fused: 16 bits kept.
        const { fused, composed } = await both((x, w) => lowPrecisionMatmul(f)(x, w), [a, b])
        for (let i = 0; i < 3; i++)
          expectClose(fused[i], composed[i], 1e-6, `${name}, rank ${sa.length}: output ${i}`)
        tf.dispose([a, b])
      }
    }
    // What the run's log says.
    expect(describePrecision('bf16')).toContain('kept in 16 bits')
    expect(describePrecision('fp8-e4m3')).toContain('emulated')
    setFusedKernels(false)
    expect(stores16Bits(formats.bf16)).toBe(false)
    expect(describePrecision('bf16')).toContain('emulated')
  })
})
