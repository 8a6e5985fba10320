/**
 * Frugal's fused webgpu kernels against the tfjs ops they replace, one op at a time:
 * `npm run bench:kernels`. For each op, the forward and backward of a training step at
 * the shapes of bench:gpu's small model (`--rows` = batch × context, `--context`, `--width`,
 * `--heads`, `--hidden`, `--vocab`): milliseconds per call (median of `--repeats`) and shader launches. Prints one JSON object. Webgpu only (FRUGAL_BACKEND may
 * name another backend that has the kernels).
 */
import * as tf from '@tensorflow/tfjs-core'
import { parseArgs } from 'node:util'
import { loadBackend } from '../src/worker/backend'
import { installKernels } from '../src/worker/kernels'
import { setFusedKernels } from '../src/worker/kernels/fused'
import { attention, attentionMask } from '../src/worker/model/layers/attention'
import { rmsNorm } from '../src/worker/model/layers/rmsnorm'
import { ropeTables, tileRope } from '../src/worker/model/layers/rope'
import { float32Numerics } from '../src/worker/model/model'
import { swigluGate } from '../src/worker/model/layers/swiglu'
import { crossEntropy } from '../src/worker/model/loss'

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '4096' },
    width: { type: 'string', default: '320' },
    hidden: { type: 'string', default: '1024' },
    vocab: { type: 'string', default: '8192' },
    context: { type: 'string', default: '256' },
    heads: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '5' },
    backend: { type: 'string', default: process.env.FRUGAL_BACKEND ?? 'webgpu' },
  },
})

const N = Number(args.rows)
const D = Number(args.width)
const H = Number(args.hidden)
const V = Number(args.vocab)
const T = Number(args.context)
const heads = Number(args.heads)
const B = N / T
const hs = D / heads

/** One op's forward and backward, as a function of its differentiable inputs. */
interface Case {
  name: string
  inputs: () => tf.Tensor[]
  f: (...xs: tf.Tensor[]) => tf.Tensor
}

const cases: Case[] = [
  {
    name: `RMSNorm (${N}, ${D})`,
    inputs: () => [tf.randomNormal([N, D]), tf.randomNormal([D])],
    f: (x, w) => rmsNorm(x as tf.Tensor2D, w as tf.Tensor1D, 1e-5),
  },
  {
    name: `SwiGLU gate (${N}, ${H})`,
    inputs: () => [tf.randomNormal([N, H]), tf.randomNormal([N, H])],
    f: (g, u) => swigluGate(g, u),
  },
  {
    name: `attention (${B} × ${T}, ${heads} heads of ${hs})`,
    inputs: () => [
      tf.randomNormal([N, D]),
      ...[0, 1, 2, 3].map(() => tf.randomNormal([D, D], 0, 0.05)),
    ],
    f: (x, q, k, v, out) =>
      attention(
        x as tf.Tensor2D,
        { q, k, v, out },
        { B, T, heads, kvHeads: heads, headWidth: hs },
        tileRope(ropeTables(T, heads, hs, 1e4, 1 / Math.sqrt(hs)), B),
        tileRope(ropeTables(T, heads, hs, 1e4), B),
        attentionMask(T, null, 0),
        float32Numerics,
      ),
  },
  {
    name: `cross-entropy (${N}, ${V})`,
    inputs: () => [tf.randomNormal([N, V])],
    f: (z) => crossEntropy(z as tf.Tensor2D, tf.randomUniformInt<tf.Rank.R1>([N], 0, V)),
  },
]

let launches = 0

async function measure(c: Case) {
  const xs = c.inputs()
  const step = () => {
    const before = launches
    const grads = tf.tidy(() => tf.grads((...ys: tf.Tensor[]) => tf.sum(c.f(...ys)))(xs))
    return { grads, launches: launches - before }
  }
  const times: number[] = []
  let last = { launches: 0 }
  for (let i = 0; i < Number(args.repeats) + 1; i++) {
    const t0 = performance.now()
    const r = step()
    await Promise.all(r.grads.map((g) => g.data()))
    if (i > 0) times.push(performance.now() - t0)
    last = r
    tf.dispose(r.grads)
  }
  tf.dispose(xs)
  times.sort((a, b) => a - b)
  return { ms: Number(times[times.length >> 1].toFixed(1)), launches: last.launches }
}

async function main() {
  const { info } = await loadBackend(args.backend)
  installKernels(tf)
  const backend = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown }
  const run = backend.runWebGPUProgram.bind(backend)
  backend.runWebGPUProgram = (...a: unknown[]) => {
    launches++
    return run(...a)
  }
  const results = []
  for (const c of cases) {
    setFusedKernels(false)
    const composed = await measure(c)
    setFusedKernels(true)
    const fused = await measure(c)
    results.push({ op: c.name, composed, fused })
    process.stderr.write(`${c.name}: composed ${composed.ms} ms, fused ${fused.ms} ms\n`)
  }
  console.log(
    JSON.stringify(
      { benchmark: 'bench:kernels', backend: `${info.name} (${info.detail})`, results },
      null,
      2,
    ),
  )
}

void main()
