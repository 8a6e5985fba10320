import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigSchema, moeSchema } from '../../../src/worker/model/config'
import { attention, attentionMask } from '../../../src/worker/model/layers/attention'
import {
  moe,
  routeAsync,
  statsOfTally,
  type MoeReport,
  type MoeStats,
} from '../../../src/worker/model/layers/moe'
import { readsSync, readTogether } from '../../../src/worker/kernels/host-views'
import { rmsNorm } from '../../../src/worker/model/layers/rmsnorm'
import { applyRope, ropeTables, tileRope } from '../../../src/worker/model/layers/rope'
import { swiglu } from '../../../src/worker/model/layers/swiglu'
import { crossEntropy } from '../../../src/worker/model/loss'
import { float32Numerics, Transformer, type Params } from '../../../src/worker/model/model'
import { gatherRows, scatterAddRows } from '../../../src/worker/model/ops'
import { initialValues, names, paramSpecs } from '../../../src/worker/model/params'
import { Rng } from '../../../src/shared/rng'
import { gradientError, randomTensor, setupTf } from '../../helpers/tfjs'

const TOL = 2e-2
const mm = float32Numerics

beforeAll(async () => {
  await setupTf()
})

const sumWeighted = (y: tf.Tensor, seed: number) =>
  tf.sum<tf.Scalar>(tf.mul(y, randomTensor(y.shape, seed)))

describe('gradients against finite differences', () => {
  it('row gather and scatter-add (embedding and MoE dispatch)', async () => {
    const idx = tf.tensor1d([2, 0, 2, 3], 'int32')
    expect(
      await gradientError((x) => sumWeighted(gatherRows(x, idx), 1), [randomTensor([5, 3], 2)]),
    ).toBeLessThan(TOL)
    expect(
      await gradientError(
        (y) => sumWeighted(scatterAddRows(y, idx, 5), 3),
        [randomTensor([4, 3], 4)],
      ),
    ).toBeLessThan(TOL)
  })

  it('RMSNorm, input and weight', async () => {
    const err = await gradientError(
      (x, w) => sumWeighted(rmsNorm(x as tf.Tensor2D, w as tf.Tensor1D, 1e-5), 5),
      [randomTensor([6, 8], 6), randomTensor([8], 7)],
    )
    expect(err).toBeLessThan(TOL)
  })

  it('rotary positions', async () => {
    const tables = tileRope(ropeTables(4, 2, 4, 10_000), 2)
    const err = await gradientError(
      (x) => sumWeighted(applyRope(x as tf.Tensor2D, tables, 4), 8),
      [randomTensor([8, 8], 9)],
    )
    expect(err).toBeLessThan(TOL)
  })

  it('causal attention, full and sliding-window with global tokens, and grouped-query', async () => {
    const [B, T, H, hs] = [2, 5, 4, 4]
    const D = H * hs
    const cases = [
      { mask: attentionMask(T, null, 0), kvHeads: H },
      { mask: attentionMask(T, 2, 1), kvHeads: H },
      { mask: attentionMask(T, null, 0), kvHeads: 2 },
    ]
    for (const { mask, kvHeads } of cases) {
      const err = await gradientError(
        (x, q, k, v, out) =>
          sumWeighted(
            attention(
              x as tf.Tensor2D,
              {
                q: q,
                k: k,
                v: v,
                out: out,
              },
              { B, T, heads: H, kvHeads, headWidth: hs },
              tileRope(ropeTables(T, H, hs, 1e4, 0.5), B),
              tileRope(ropeTables(T, kvHeads, hs, 1e4), B),
              mask,
              mm,
            ),
            10,
          ),
        [
          randomTensor([B * T, D], 11),
          randomTensor([D, D], 12, 0.5),
          randomTensor([D, kvHeads * hs], 13, 0.5),
          randomTensor([D, kvHeads * hs], 14, 0.5),
          randomTensor([D, D], 15, 0.5),
        ],
      )
      expect(err).toBeLessThan(TOL)
    }
  })

  it('grouped-query attention is multi-head attention with each key/value head repeated', async () => {
    const [B, T, H, Hkv, hs] = [2, 6, 4, 2, 4]
    const D = H * hs
    const x = randomTensor([B * T, D], 21) as tf.Tensor2D
    const q = randomTensor([D, D], 22, 0.5) as tf.Tensor2D
    const out = randomTensor([D, D], 25, 0.5) as tf.Tensor2D
    const k = randomTensor([D, Hkv * hs], 23, 0.5) as tf.Tensor2D
    const v = randomTensor([D, Hkv * hs], 24, 0.5) as tf.Tensor2D
    // Query head h reads key/value head ⌊h / 2⌋: repeat each head's columns for its group.
    const repeated = (w: tf.Tensor2D) =>
      tf.concat<tf.Tensor2D>(
        Array.from({ length: H }, (_, h) => tf.slice(w, [0, Math.floor(h / 2) * hs], [D, hs])),
        1,
      )
    const run = (kk: tf.Tensor2D, vv: tf.Tensor2D, kvHeads: number) =>
      attention(
        x,
        { q, k: kk, v: vv, out },
        { B, T, heads: H, kvHeads, headWidth: hs },
        tileRope(ropeTables(T, H, hs, 1e4, 0.5), B),
        tileRope(ropeTables(T, kvHeads, hs, 1e4), B),
        attentionMask(T, null, 0),
        mm,
      )
    const diff = tf.max(tf.abs(tf.sub(run(k, v, Hkv), run(repeated(k), repeated(v), H))))
    expect((await diff.data())[0]).toBeLessThan(1e-5)
  })

  it('SwiGLU feed-forward', async () => {
    const err = await gradientError(
      (x, g, u, d) => sumWeighted(swiglu(x as tf.Tensor2D, { gate: g, up: u, down: d }, mm), 14),
      [
        randomTensor([5, 6], 15),
        randomTensor([6, 8], 16),
        randomTensor([6, 8], 19),
        randomTensor([8, 6], 17),
      ],
    )
    expect(err).toBeLessThan(TOL)
  })

  it('cross-entropy with label smoothing', async () => {
    const targets = tf.tensor1d([1, 0, 4, 2], 'int32')
    for (const smoothing of [0, 0.1]) {
      const err = await gradientError(
        (z) => crossEntropy(z as tf.Tensor2D, targets, smoothing),
        [randomTensor([4, 5], 18)],
      )
      expect(err).toBeLessThan(TOL)
    }
    // The value is the usual one: uniform logits give ln(V).
    expect(
      (await crossEntropy(tf.zeros<tf.Rank.R2>([3, 7]), tf.tensor1d([0, 1, 2], 'int32')).data())[0],
    ).toBeCloseTo(Math.log(7), 5)
  })
})

describe('MoE gradients in every routing mode', () => {
  const D = 6
  const N = 8
  const E = 4
  const h = 8
  // Decisive routing (large router weights) so a finite-difference step never flips a choice.
  const weights = () => ({
    router: randomTensor([D, E], 20, 3) as tf.Tensor2D,
    routerBias: tf.tensor1d([0.05, -0.05, 0, 0.02]),
    experts: Array.from({ length: E }, (_, e) => ({
      gate: randomTensor([D, h], 30 + e) as tf.Tensor2D,
      up: randomTensor([D, h], 70 + e) as tf.Tensor2D,
      down: randomTensor([h, D], 40 + e) as tf.Tensor2D,
    })),
    shared: {
      gate: randomTensor([D, h], 50) as tf.Tensor2D,
      up: randomTensor([D, h], 52) as tf.Tensor2D,
      down: randomTensor([h, D], 51) as tf.Tensor2D,
    },
  })
  const base = moeSchema.parse({})
  const modes = {
    'softmax top-2, Switch aux loss, capacity': {
      ...base,
      routedExperts: E,
      topK: 2,
      affinity: 'softmax',
      balance: 'aux',
      capacityFactor: 1,
    },
    'sigmoid top-2, aux-free bias + sequence loss': {
      ...base,
      routedExperts: E,
      topK: 2,
      affinity: 'sigmoid',
      balance: 'aux-free',
      capacityFactor: null,
    },
    'top-p routing with entropy loss': {
      ...base,
      routedExperts: E,
      topK: 3,
      routing: 'topp',
      topP: 0.5,
      capacityFactor: null,
    },
    'top-1 without shared experts': {
      ...base,
      routedExperts: E,
      topK: 1,
      sharedExperts: 0,
      capacityFactor: null,
    },
  } as const

  for (const [mode, cfg] of Object.entries(modes))
    for (const where of ['host', 'device'] as const) {
      it(`${mode}, routed on the ${where}`, async () => {
        const w = weights()
        if (cfg.sharedExperts === 0) w.shared = null as never
        const inputs = [randomTensor([N, D], 61), w.router, w.experts[0].gate, w.experts[1].down]
        // The host plan of the unperturbed rows: decisive, so no finite-difference step flips
        // it. On the device the routing is decided again each time, the same way.
        const routing =
          where === 'device' ? 'device' : await routeAsync(inputs[0] as tf.Tensor2D, w, cfg)
        if (routing !== 'device' && readsSync()) {
          // The synchronous path (moe reading the affinities itself) routes the same way.
          const own = moe(inputs[0] as tf.Tensor2D, w, cfg, 2, mm)
          expect(own.stats).toEqual(routing.stats)
          tf.dispose([own.y, ...(own.aux ? [own.aux] : [])])
        }
        const loss = (
          x: tf.Tensor,
          router: tf.Tensor,
          gate0: tf.Tensor,
          down1: tf.Tensor,
          sharedUp?: tf.Tensor,
        ) => {
          const ww = {
            ...w,
            router: router as tf.Tensor2D,
            experts: w.experts.map((ex, e) => ({
              ...ex,
              gate: e === 0 ? (gate0 as tf.Tensor2D) : ex.gate,
              down: e === 1 ? (down1 as tf.Tensor2D) : ex.down,
            })),
            shared: w.shared && sharedUp ? { ...w.shared, up: sharedUp as tf.Tensor2D } : null,
          }
          const out = moe(x as tf.Tensor2D, ww, cfg, 2, mm, routing)
          if (out.stats instanceof tf.Tensor) out.stats.dispose()
          const l = sumWeighted(out.y, 60)
          return out.aux ? tf.add<tf.Scalar>(l, tf.mul(out.aux, 50)) : l
        }
        const checked = w.shared ? [...inputs, w.shared.up] : inputs
        const err = await gradientError(loss, checked, { eps: 1e-3, samples: 10 })
        expect(err).toBeLessThan(TOL)
      })
    }
})

describe('MoE routing on the device', () => {
  const D = 8
  const E = 4
  const h = 8
  const base = moeSchema.parse({})
  const weights = (seed: number) => ({
    // Expert 0 is favoured, so a capacity binds and tokens are dropped.
    router: tf.add<tf.Tensor2D>(randomTensor([D, E], seed, 1), tf.tensor1d([1.5, 0, 0, 0])),
    routerBias: tf.tensor1d([0.3, -0.2, 0.1, 0]),
    experts: Array.from({ length: E }, (_, e) => ({
      gate: randomTensor([D, h], seed + 10 + e) as tf.Tensor2D,
      up: randomTensor([D, h], seed + 20 + e) as tf.Tensor2D,
      down: randomTensor([h, D], seed + 30 + e) as tf.Tensor2D,
    })),
    shared: null,
  })
  const modes = {
    'softmax top-2, capacity 1.0, aux loss': {
      ...base,
      routedExperts: E,
      topK: 2,
      capacityFactor: 1,
    },
    'sigmoid top-2, aux-free bias, sequence loss, capacity 1.25': {
      ...base,
      routedExperts: E,
      topK: 2,
      affinity: 'sigmoid',
      balance: 'aux-free',
      sequenceAuxWeight: 0.1,
      capacityFactor: 1.25,
    },
    'top-p, no capacity': {
      ...base,
      routedExperts: E,
      topK: 3,
      routing: 'topp',
      topP: 0.5,
      capacityFactor: null,
    },
    'top-1 unnormalized, capacity 1.0': {
      ...base,
      routedExperts: E,
      topK: 1,
      normalizeWeights: false,
      routeScale: 2.5,
      capacityFactor: 1,
    },
  } as const

  for (const [mode, cfg] of Object.entries(modes)) {
    it(`${mode}: the host plan's choice, output, losses and statistics`, async () => {
      const w = weights(3)
      const x = randomTensor([64, D], 5) as tf.Tensor2D
      const host = moe(x, w, cfg, 4, mm, await routeAsync(x, w, cfg))
      const device = moe(x, w, cfg, 4, mm, 'device')
      const [stats] = await readMoe([device.stats])
      expectSameStats([stats], [host.stats as MoeStats])
      if (cfg.capacityFactor !== null) expect(stats!.dropped).toBeGreaterThan(0)
      // Relative to the output's size: the GPU sums a batched matmul in another order.
      const diff = tf.div(tf.max(tf.abs(tf.sub(host.y, device.y))), tf.max(tf.abs(host.y)))
      expect((await diff.data())[0]).toBeLessThan(1e-5)
      if (host.aux) {
        const [a, b] = await Promise.all([host.aux.data(), device.aux!.data()])
        expect(b[0]).toBeCloseTo(a[0], 6)
      } else expect(device.aux).toBeNull()
      tf.dispose([x, diff, host.y, device.y, host.aux ?? [], device.aux ?? []].flat())
    })
  }

  it('a whole model: the same logits and loss gradients as the host plan', async () => {
    const c = modelConfigSchema.parse({
      vocabSize: 13,
      contextLength: 16,
      layers: 3,
      heads: 2,
      width: 8,
      moe: { routedExperts: 4, topK: 2, firstDenseLayers: 1, capacityFactor: 1 },
    })
    const values = initialValues({ ...c, initStd: 0.3 }, new Rng(4))
    const P: Params = {}
    for (const spec of paramSpecs(c)) P[spec.name] = tf.tensor(values.get(spec.name)!, spec.shape)
    const model = new Transformer(c)
    const ids = tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => (i * 7 + 3) % 13),
      'int32',
    )
    const targets = tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => (i * 5 + 1) % 13),
      'int32',
    )
    const routing = await model.route(P, ids, 2, 16)
    const checked = [names.router(1), names.expertGate(2, 0), names.q(1)]
    const gradientsWith = async (r: typeof routing | 'device') => {
      let stats: unknown[] = []
      const g = tf.grads((...xs: tf.Tensor[]) => {
        const Q = { ...P }
        checked.forEach((n, i) => (Q[n] = xs[i]!))
        const out = model.forward(Q, ids, 2, 16, { routing: r })
        stats = out.moe
        const l = crossEntropy(out.logits, targets)
        return out.aux ? tf.add(l, out.aux) : l
      })(checked.map((n) => P[n]))
      const read = await Promise.all(g.map((t) => t.data() as Promise<Float32Array>))
      tf.dispose(g)
      return { read, stats: await readMoe(stats as Parameters<typeof readMoe>[0]) }
    }
    const host = await gradientsWith(routing)
    const device = await gradientsWith('device')
    expectSameStats(device.stats, host.stats)
    expect(host.stats.some((m) => m && m.dropped > 0)).toBe(true)
    host.read.forEach((g, i) => {
      const worst = g.reduce((m, v, j) => Math.max(m, Math.abs(v - device.read[i][j])), 0)
      expect(worst).toBeLessThan(1e-5)
    })
    model.dispose()
  })
})

/** The same routing statistics; the entropy summed in float32 on the device, in float64 on the host. */
function expectSameStats(a: (MoeStats | null)[], b: (MoeStats | null)[]) {
  const exact = (m: MoeStats | null) => m && { ...m, entropy: 0 }
  expect(a.map(exact)).toEqual(b.map(exact))
  a.forEach((m, i) => m && expect(m.entropy).toBeCloseTo(b[i]!.entropy, 5))
}

/** Layers' MoE statistics on the host, tallies read back (one transfer). */
async function readMoe(reports: (MoeReport | null)[]): Promise<(MoeStats | null)[]> {
  const values = await readTogether(reports.filter((r): r is tf.Tensor1D => r instanceof tf.Tensor))
  let i = 0
  return reports.map((r) => (r instanceof tf.Tensor ? statsOfTally(values[i++]) : r))
}

describe('whole model', () => {
  it('embedding, blocks with cross-layer sharing, MoE and the tied head', async () => {
    const c = modelConfigSchema.parse({
      vocabSize: 11,
      contextLength: 8,
      layers: 4,
      heads: 2,
      kvHeads: 1, // grouped-query (here multi-query) attention
      attentionBias: true, // Qwen2's q, k and v biases
      qkNorm: true, // Qwen3's QK-norm, with heads wider than width ÷ heads
      headDim: 6,
      ropeScaling: { factor: 4, lowFreqFactor: 1, highFreqFactor: 2, originalContext: 4 },
      width: 8,
      shareGroupSize: 2,
      moe: { routedExperts: 3, topK: 2, firstDenseLayers: 2, capacityFactor: null },
    })
    const values = initialValues({ ...c, initStd: 0.3 }, new Rng(1))
    const P: Params = {}
    for (const spec of paramSpecs(c)) P[spec.name] = tf.tensor(values.get(spec.name)!, spec.shape)
    const model = new Transformer(c)
    const ids = tf.tensor1d([1, 5, 2, 9, 3, 3, 7, 0], 'int32')
    const targets = tf.tensor1d([5, 2, 9, 3, 3, 7, 0, 1], 'int32')
    const checked = [
      names.embed,
      names.q(0),
      names.v(0),
      names.qBias(0),
      names.kBias(1),
      names.qNorm(0),
      names.kNorm(1),
      names.attnOut(1),
      names.router(1),
      names.expertGate(1, 2),
      names.finalNorm,
    ]
    // Decided once, from the unperturbed weights, as a training step decides it.
    const routing = await model.route(P, ids, 2, 4)
    const err = await gradientError(
      (...xs) => {
        const Q = { ...P }
        checked.forEach((n, i) => (Q[n] = xs[i]!))
        const { logits, aux } = model.forward(Q, ids, 2, 4, { routing })
        const l = crossEntropy(logits, targets)
        return aux ? tf.add(l, aux) : l
      },
      checked.map((n) => P[n]),
      { eps: 1e-3, samples: 8 },
    )
    expect(err).toBeLessThan(TOL)
  })
})
