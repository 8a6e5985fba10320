/**
 * Training speed on the GPU: `npm run bench:gpu`. Prints one JSON object on stdout,
 * progress on stderr.
 *
 *   npm run bench:gpu                                  (the small size: about 10M parameters)
 *   npm run bench:gpu -- --sizes small,medium,large    (about 10M, 50M and 125M)
 *   npm run bench:gpu -- --steps 20 --batch 16 --context 256 --no-wasm --no-pytorch
 *   npm run bench:gpu -- --kinds moe --capacity none    (MoE without an expert capacity)
 *   npm run bench:gpu -- --fused off                    (without Frugal's fused kernels)
 *   npm run bench:gpu -- --precision bf16               (16-bit GEMM inputs, on webgpu kept so)
 *   npm run bench:gpu -- --peak-detail                  (what is alive at a step's peak, on stderr)
 *
 * For each size, a dense model and a MoE model with the same active parameters (8 routed
 * experts, top-2, one shared expert, each a third of the dense FFN, expert capacity 1.25
 * as the product's default, under which a GPU routes on the device) train on random tokens
 * for a few warm-up steps and then `--steps` timed ones: tokens/s, step time, model FLOPs
 * utilization (against the adapter's fp32 peak where it is known, and against a measured
 * 2048² matmul rate always), the GPU memory the run reserved (peak), and the peak of GPU
 * buffers in use during one step (each buffer once; tfjs's own count of live tensors, also
 * printed, counts views and clones again). The smallest
 * dense model also trains on wasm (a child process), and, where `python3` has torch and a
 * CUDA device, the same architectures run in PyTorch eager in fp32 and bf16 autocast
 * (bench/gpu_reference.py) for the ratio. The backend is webgpu unless FRUGAL_BACKEND says
 * otherwise (a software adapter is used when named: slow, but it shows the bench runs).
 */
import * as tf from '@tensorflow/tfjs-core'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { trainingFlopsPerToken } from '../src/shared/estimate'
import { loadBackend } from '../src/worker/backend'
import { installKernels } from '../src/worker/kernels'
import { setFusedKernels } from '../src/worker/kernels/fused'
import { ownDispatchCount } from '../src/worker/kernels/webgpu-program'
import { modelConfigSchema, type ModelConfig } from '../src/worker/model/config'
import { measureMatmulFlops } from '../src/worker/model/estimate'
import { countParams } from '../src/worker/model/params'
import { trainConfigSchema } from '../src/worker/train/config'
import { Trainer } from '../src/worker/train/trainer'

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: 'small' },
    kinds: { type: 'string', default: 'dense,moe' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    batch: { type: 'string', default: '16' },
    context: { type: 'string', default: '256' },
    vocab: { type: 'string', default: '8192' },
    /** The MoE models' capacity factor, or 'none' (no limit: routing decided on the host). */
    capacity: { type: 'string', default: '1.25' },
    /** The runs' precision (fp32, bf16, fp16, fp8-e4m3, fp8-e5m2). */
    precision: { type: 'string', default: 'fp32' },
    /** Frugal's fused webgpu kernels (RMSNorm, SwiGLU, cross-entropy): 'off' measures without. */
    fused: { type: 'string', default: 'on' },
    backend: { type: 'string', default: process.env.FRUGAL_BACKEND ?? 'webgpu' },
    'no-wasm': { type: 'boolean', default: false },
    'no-pytorch': { type: 'boolean', default: false },
    /** On stderr, the tensors alive at each case's step peak, by dtype and shape. */
    'peak-detail': { type: 'boolean', default: false },
    python: { type: 'string', default: process.env.PYTHON ?? 'python3' },
    /** Internal: run one case and print its JSON (the wasm child). */
    child: { type: 'boolean', default: false },
  },
})

/**
 * Width, depth, heads of the three sizes (vocabulary 8192, head width 64): 10.1M, 52.5M
 * and 119M parameters dense; the MoE models have the same active parameters.
 */
const sizes = {
  small: { width: 320, layers: 6, heads: 5 },
  medium: { width: 576, layers: 12, heads: 9 },
  large: { width: 768, layers: 16, heads: 12 },
} as const
type SizeName = keyof typeof sizes
type Kind = 'dense' | 'moe'

/**
 * Peak fp32 rates (FLOP/s) of known adapters, by name: plain fp32 on the shader cores,
 * which is what WebGPU reaches (no tensor cores). Vendor datasheets.
 */
const knownPeaks: [RegExp, number][] = [
  [/H100|H200/i, 67e12],
  [/A100/i, 19.5e12],
  [/L40S/i, 91.6e12],
  [/RTX 4090/i, 82.6e12],
  [/RTX 3090/i, 35.6e12],
]

const steps = Number(args.steps)
const warmup = Number(args.warmup)
const B = Number(args.batch)
const T = Number(args.context)
const vocab = Number(args.vocab)
const capacityFactor = args.capacity === 'none' ? null : Number(args.capacity)

function modelFor(size: SizeName, kind: Kind): ModelConfig {
  const s = sizes[size]
  const dense = Math.ceil((8 * s.width) / 3 / 16) * 16
  return modelConfigSchema.parse({
    vocabSize: vocab,
    contextLength: T,
    ...s,
    ...(kind === 'moe'
      ? {
          moe: {
            routedExperts: 8,
            topK: 2,
            sharedExperts: 1,
            // Three active experts (two routed, one shared) of a third each: the dense FFN's compute.
            expertHidden: Math.ceil(dense / 3 / 16) * 16,
            firstDenseLayers: 1,
            capacityFactor,
          },
        }
      : {}),
  })
}

interface CaseResult {
  size: SizeName
  kind: Kind
  backend: string
  parameters: number
  activeParameters: number
  batch: number
  context: number
  steps: number
  tokensPerSecond: number
  stepMs: { median: number; min: number }
  modelTflops: number
  mfu: { vsKnownPeak: number | null; vsMeasuredMatmul: number }
  gpuReservedBytes: number | null
  /**
   * Peak bytes of live tensors in one step (tfjs's accounting, an extra untimed step): it
   * counts a tensor's bytes again for each view or clone of it (reshapes, the copies saved
   * for the backward), so it overstates memory; compare only runs of the same code.
   */
  peakStepBytes: number
  /**
   * The peak of GPU buffers in use during that step, each buffer once (webgpu's buffer
   * manager), weights and optimizer state included, as PyTorch's max_memory_allocated
   * counts; null on other backends.
   */
  peakGpuBytes: number | null
  /** GPU buffers in use before that step: the weights, the optimizer's moments. */
  gpuBytesBeforeStep: number | null
  /** Reads from the device to the host per timed step: each one stalls a GPU's queue. */
  readsPerStep: number
  /** Shader launches per timed step (webgpu; 0 elsewhere). */
  launchesPerStep: number
  finalLoss: number
}

/**
 * Counts calls of some of the backend's methods: its reads of tensor data (`read`,
 * `readSync`: what a step waits on) or its shader launches (webgpu's `runWebGPUProgram`,
 * each a dispatch plus tfjs's work to record it). Each method is wrapped once.
 */
function countCalls(methods: string[]): () => number {
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>
  let calls = 0
  for (const name of methods.filter((m) => typeof backend[m] === 'function')) {
    const original = backend[name].bind(backend)
    backend[name] = (...a: unknown[]) => {
      calls++
      return original(...a)
    }
  }
  return () => calls
}
let counters: { reads: () => number; launches: () => number } | null = null

/** What of tfjs-backend-webgpu's buffer manager this reads: bytes of buffers handed out. */
interface BufferManager {
  numBytesUsed: number
  acquireBuffer: (...args: unknown[]) => unknown
}

/**
 * The GPU buffers in use before `work` and at their peak during it (webgpu's buffer
 * manager counts each buffer once, where tfjs's numBytes counts every view of one); null
 * on a backend without one.
 */
async function gpuBufferPeak(
  work: () => Promise<void>,
): Promise<{ before: number; peak: number } | null> {
  const manager = (tf.backend() as unknown as { bufferManager?: BufferManager }).bufferManager
  if (!manager) {
    await work()
    return null
  }
  const acquire = manager.acquireBuffer
  const before = manager.numBytesUsed
  let peak = before
  const live = args['peak-detail'] ? trackLiveTensors() : null
  let detail = ''
  manager.acquireBuffer = (...args: unknown[]) => {
    const buffer = acquire.apply(manager, args)
    if (manager.numBytesUsed > peak && live) detail = live.summary()
    peak = Math.max(peak, manager.numBytesUsed)
    return buffer
  }
  try {
    await work()
  } finally {
    manager.acquireBuffer = acquire
    live?.stop()
  }
  if (live) process.stderr.write(`  alive at the step's peak (made during the step):\n${detail}\n`)
  return { before, peak }
}

/**
 * The tensors made from now on that are still alive, each buffer once (by its data id,
 * which views and clones share), through the engine's trackTensor and disposeTensor
 * (public methods of tfjs-core's Engine, not of its typings). For --peak-detail: what a
 * step's memory consists of at its peak.
 */
function trackLiveTensors(): { summary(): string; stop(): void } {
  type Tracked = { dataId: object; shape: number[]; dtype: string; isDisposedInternal: boolean }
  const engine = tf.engine() as unknown as {
    trackTensor: (t: Tracked, backend: unknown) => void
    disposeTensor: (t: Tracked) => void
  }
  const { trackTensor, disposeTensor } = engine
  const live = new Map<object, { what: string; bytes: number; refs: number }>()
  engine.trackTensor = (t, backend) => {
    const seen = live.get(t.dataId)
    if (seen) seen.refs++
    else {
      const bytes = t.shape.reduce((a, b) => a * b, 1) * 4 // every dtype here is 4 bytes
      live.set(t.dataId, { what: `${t.dtype}[${t.shape.join(', ')}]`, bytes, refs: 1 })
    }
    trackTensor.call(engine, t, backend)
  }
  engine.disposeTensor = (t) => {
    const seen = t.isDisposedInternal ? undefined : live.get(t.dataId)
    if (seen && --seen.refs === 0) live.delete(t.dataId)
    disposeTensor.call(engine, t)
  }
  return {
    summary() {
      const by = new Map<string, { count: number; bytes: number }>()
      for (const { what, bytes } of live.values()) {
        const group = by.get(what) ?? { count: 0, bytes: 0 }
        by.set(what, { count: group.count + 1, bytes: group.bytes + bytes })
      }
      return [...by.entries()]
        .sort((a, b) => b[1].bytes - a[1].bytes)
        .slice(0, 12)
        .map(([what, g]) => `    ${what} ×${g.count}: ${(g.bytes / 1e6).toFixed(1)} MB`)
        .join('\n')
    },
    stop() {
      engine.trackTensor = trackTensor
      engine.disposeTensor = disposeTensor
    },
  }
}

/** `peaks`: the measured matmul rate, and the adapter's fp32 peak when its name is known. */
async function runCase(
  size: SizeName,
  kind: Kind,
  peaks: { measured: number; known: number | null },
): Promise<CaseResult> {
  const model = modelFor(size, kind)
  const train = trainConfigSchema.parse({
    steps: warmup + steps + 1,
    batchSize: B,
    learningRate: 3e-4,
    warmupSteps: 1,
    evalEvery: 0,
    threads: 1,
    precision: args.precision,
  })
  // Random tokens: speed does not depend on what is learned.
  let seed = 12345
  const tokens = Uint16Array.from({ length: B * T * 4 + 1 }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed % vocab
  })
  const trainer = await Trainer.create(model, train, {
    train: tokens,
    val: tokens.subarray(0, T * 2 + 1),
    vocabSize: vocab,
  })
  const times: number[] = []
  let loss = NaN
  let peakBytes = 0
  let peakGpuBytes: number | null
  let gpuBytesBeforeStep: number | null
  let readsPerStep: number
  let launchesPerStep: number
  if (!counters) {
    const programs = countCalls(['runWebGPUProgram'])
    // Frugal's own pipelines (the optimizer's update) launch beside tfjs's programs.
    counters = {
      reads: countCalls(['read', 'readSync']),
      launches: () => programs() + ownDispatchCount(),
    }
  }
  const before = { reads: 0, launches: 0 }
  try {
    for (let i = 0; i < warmup + steps; i++) {
      if (i === warmup)
        Object.assign(before, { reads: counters.reads(), launches: counters.launches() })
      const t0 = performance.now()
      const m = await trainer.trainStep()
      const ms = performance.now() - t0
      loss = m.loss
      if (i >= warmup) times.push(ms)
      process.stderr.write(
        `  ${size} ${kind} step ${i + 1}/${warmup + steps}: ${ms.toFixed(0)} ms, loss ${m.loss.toFixed(3)}\n`,
      )
    }
    readsPerStep = (counters.reads() - before.reads) / steps
    launchesPerStep = (counters.launches() - before.launches) / steps
    // One more step, untimed, for the peaks of memory: tfjs's accounting and the GPU's.
    const gpu = await gpuBufferPeak(async () => {
      peakBytes = (await tf.profile(() => trainer.trainStep().then(() => []))).peakBytes
    })
    peakGpuBytes = gpu?.peak ?? null
    gpuBytesBeforeStep = gpu?.before ?? null
  } finally {
    await trainer.dispose()
  }
  const total = times.reduce((a, b) => a + b, 0) / 1000
  const tokensPerSecond = (steps * B * T) / total
  const flops = trainingFlopsPerToken(model) * tokensPerSecond
  const counts = countParams(model)
  const mem = tf.memory() as { numBytesAllocatedInGPU?: number }
  const sorted = [...times].sort((a, b) => a - b)
  return {
    size,
    kind,
    backend: tf.getBackend(),
    parameters: counts.total,
    activeParameters: counts.active,
    batch: B,
    context: T,
    steps,
    tokensPerSecond: round(tokensPerSecond, 0),
    stepMs: { median: round(sorted[sorted.length >> 1], 1), min: round(sorted[0], 1) },
    modelTflops: round(flops / 1e12, 3),
    mfu: {
      vsKnownPeak: peaks.known ? round(flops / peaks.known, 4) : null,
      vsMeasuredMatmul: round(flops / peaks.measured, 4),
    },
    gpuReservedBytes: mem.numBytesAllocatedInGPU ?? null,
    peakStepBytes: peakBytes,
    peakGpuBytes,
    gpuBytesBeforeStep,
    readsPerStep: round(readsPerStep, 1),
    launchesPerStep: round(launchesPerStep, 1),
    finalLoss: round(loss, 4),
  }
}

const round = (x: number, d: number) => Number(x.toFixed(d))

/** The smallest dense model on wasm, in a child process (a process has one tfjs backend). */
function wasmCase(): unknown {
  const r = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      process.argv[1],
      '--child',
      '--backend',
      'wasm',
      '--sizes',
      'small',
      '--kinds',
      'dense',
      '--steps',
      String(Math.min(steps, 3)),
      '--warmup',
      '1',
      '--batch',
      String(B),
      '--context',
      String(T),
      '--vocab',
      String(vocab),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  )
  if (r.status !== 0) return { skipped: `the wasm run failed (exit ${r.status})` }
  return (JSON.parse(r.stdout) as { cases: unknown[] }).cases[0]
}

/** The same architectures in PyTorch eager, fp32 and bf16, where torch sees a CUDA device. */
function pytorch(cases: { size: SizeName; kind: Kind }[]): unknown {
  const script = [
    join(import.meta.dirname ?? '.', 'gpu_reference.py'),
    resolve('bench', 'gpu_reference.py'),
  ].find((p) => existsSync(p))
  if (!script) return { skipped: 'bench/gpu_reference.py not found' }
  const spec = {
    steps,
    warmup,
    batch: B,
    context: T,
    cases: cases.map(({ size, kind }) => ({ size, kind, config: modelFor(size, kind) })),
  }
  const r = spawnSync(args.python, [script], {
    input: JSON.stringify(spec),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  })
  if (r.error) return { skipped: `${args.python} could not be started (${r.error.message})` }
  if (r.status !== 0) return { skipped: `${args.python} ${script} failed (exit ${r.status})` }
  return JSON.parse(r.stdout) as unknown
}

async function main() {
  const { info } = await loadBackend(args.backend)
  installKernels(tf)
  if (args.fused !== 'on' && args.fused !== 'off') throw new Error('--fused: on or off')
  setFusedKernels(args.fused === 'on')
  const wanted = args.sizes.split(',').map((s) => s.trim()) as SizeName[]
  for (const s of wanted)
    if (!(s in sizes)) throw new Error(`--sizes: unknown size "${s}" (small, medium, large)`)
  const kinds = args.kinds.split(',').map((k) => k.trim()) as Kind[]
  process.stderr.write(`bench:gpu on ${info.name} (${info.detail})\n`)
  // The denominator for utilization everywhere: this backend's own large fp32 matmul rate.
  const measuredPeak = await measureMatmulFlops(tf, 1, info.name === 'webgpu' ? 2048 : 512)
  const gpuName = info.gpu ? `${info.gpu.description} ${info.gpu.device}` : ''
  const peaks = {
    measured: measuredPeak,
    known: knownPeaks.find(([re]) => re.test(gpuName))?.[1] ?? null,
  }
  const cases: CaseResult[] = []
  for (const size of wanted) for (const kind of kinds) cases.push(await runCase(size, kind, peaks))
  if (args.child) {
    console.log(JSON.stringify({ cases }))
    return
  }
  const report: Record<string, unknown> = {
    benchmark: 'bench:gpu',
    backend: `${info.name} ${info.version} (${info.detail})`,
    gpu: info.gpu ?? null,
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    node: process.version,
    settings: {
      batch: B,
      context: T,
      vocab,
      steps,
      warmup,
      precision: args.precision,
      capacityFactor,
      fused: args.fused,
    },
    measuredMatmulTflops: round(measuredPeak / 1e12, 3),
    cases,
  }
  if (!args['no-wasm']) {
    process.stderr.write('wasm, the smallest dense model…\n')
    report.wasm = wasmCase()
  }
  if (!args['no-pytorch']) {
    process.stderr.write('PyTorch eager, the same models…\n')
    const torch = pytorch(cases) as {
      cases?: {
        size: string
        kind: string
        fp32: { tokensPerSecond: number; parameters: number }
        bf16?: { tokensPerSecond: number }
      }[]
    }
    report.pytorch = torch
    if (torch.cases)
      report.ratios = cases.map((c) => {
        const t = torch.cases!.find((x) => x.size === c.size && x.kind === c.kind)
        return {
          size: c.size,
          kind: c.kind,
          // The same architecture on both sides: the parameter counts must agree.
          sameParameters: t ? t.fp32.parameters === c.parameters : null,
          vsPytorchFp32: t ? round(c.tokensPerSecond / t.fp32.tokensPerSecond, 3) : null,
          vsPytorchBf16: t?.bf16 ? round(c.tokensPerSecond / t.bf16.tokensPerSecond, 3) : null,
        }
      })
  }
  console.log(JSON.stringify(report, null, 2))
}

await main()
// Dawn keeps the event loop alive while its device exists.
process.exit(0)
