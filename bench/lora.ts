/**
 * What LoRA saves against full fine-tuning: the time of a training step and the memory the
 * process needs, on the same model, batch and backend. The bar: a LoRA step at most
 * 0.6× of a full fine-tuning step's time and memory.
 *
 *   npm run bench:lora                 prints one JSON object on stdout
 *   STEPS=8 FRUGAL_BACKEND=cpu npm run bench:lora
 *   MODELS=1,2 npm run bench:lora      (some of the models, by index)
 *
 * Each configuration runs in its own process, so its memory is its own: the peak resident
 * set (VmHWM: weights, AdamW moments, activations, the wasm heap's high-water mark, and
 * Node and tfjs themselves, measured alone as `process baseline`). tfjs's own byte count
 * is not used: it counts a buffer once per tensor that shares it. Time is the median step
 * after two warm-up steps, on one thread (a LoRA run trains on one thread), so both sides
 * run the same way.
 */
import * as tf from '@tensorflow/tfjs-core'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadBackend } from '../src/worker/backend'
import { installKernels } from '../src/worker/kernels'
import { modelConfigSchema, type ModelConfigInput } from '../src/worker/model/config'
import { countParams, initialValues } from '../src/worker/model/params'
import { Rng } from '../src/shared/rng'
import { trainConfigSchema, type TrainConfigInput } from '../src/worker/train/config'
import { Trainer } from '../src/worker/train/trainer'

const steps = Number(process.env.STEPS ?? 5)
const backendName = process.env.FRUGAL_BACKEND ?? 'wasm'

const models: { name: string; model: ModelConfigInput; batch: number }[] = [
  {
    // Fine-tuning an imported small open model: weights, not activations, dominate.
    name: 'SmolLM2-135M shape (30 layers × 576, GQA 9/3, vocab 49,152), 2 × 128 tokens',
    model: {
      vocabSize: 49_152,
      contextLength: 128,
      layers: 30,
      heads: 9,
      kvHeads: 3,
      width: 576,
      ffnHidden: 1536,
      tieEmbeddings: true,
    },
    batch: 2,
  },
  {
    name: '6 layers × 384 (Shakespeare-sized, BPE 4096)',
    model: { vocabSize: 4096, contextLength: 256, layers: 6, heads: 6, width: 384 },
    batch: 8,
  },
  {
    name: 'MoE: 4 layers × 256, 8 experts top-2',
    model: {
      vocabSize: 4096,
      contextLength: 256,
      layers: 4,
      heads: 4,
      width: 256,
      moe: { routedExperts: 8, topK: 2, firstDenseLayers: 1, capacityFactor: null },
    },
    batch: 8,
  },
]

/** Each LoRA variant is compared with the full fine-tuning row it names (`against`). */
const variants: { name: string; train: Partial<TrainConfigInput>; against: number }[] = [
  { name: 'full fine-tuning', train: {}, against: 0 },
  {
    name: 'LoRA r8, attention + mlp',
    train: { lora: { rank: 8, targets: ['attention', 'mlp'] } },
    against: 0,
  },
  { name: 'LoRA r8, attention', train: { lora: { rank: 8, targets: ['attention'] } }, against: 0 },
  {
    name: 'full fine-tuning, gradient checkpointing',
    train: { gradientCheckpointing: true },
    against: 3,
  },
  {
    name: 'LoRA r8, attention + mlp, gradient checkpointing',
    train: { lora: { rank: 8, targets: ['attention', 'mlp'] }, gradientCheckpointing: true },
    against: 3,
  },
  {
    name: 'LoRA r8, attention + mlp, int8 base',
    train: { lora: { rank: 8, targets: ['attention', 'mlp'], int8Base: true } },
    against: 0,
  },
  {
    name: 'LoRA r8, attention + mlp, gradient checkpointing, int8 base',
    train: {
      lora: { rank: 8, targets: ['attention', 'mlp'], int8Base: true },
      gradientCheckpointing: true,
    },
    against: 3,
  },
]

const note = (m: string) => process.stderr.write(`${m}\n`)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const mb = (bytes: number) => +(bytes / 1e6).toFixed(1)
/** The process's peak resident set so far (Linux), in bytes. */
const peakRss = () =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024

interface Row {
  variant: string
  trainedParameters: number
  stepMs: number
  peakRssMB: number
  /** wasm: the most bytes tensors held at once (each buffer once), from the backend's allocations. */
  peakTensorMB: number | null
}

/**
 * Follow the wasm backend's tensor allocations (its `_malloc` and `_free`): the live bytes
 * and their peak. Null on other backends.
 */
function trackWasmAllocations(): { peak: () => number } | null {
  const wasm = (
    tf.backend() as unknown as { wasm?: { _malloc(n: number): number; _free(p: number): void } }
  ).wasm
  if (!wasm) return null
  // Emscripten's exports replace themselves with the raw function on their first call:
  // call each once so that replacement happens before ours, not over it.
  wasm._free(wasm._malloc(8))
  const sizes = new Map<number, number>()
  let live = 0
  let peak = 0
  const malloc = wasm._malloc.bind(wasm)
  const free = wasm._free.bind(wasm)
  wasm._malloc = (n) => {
    const ptr = malloc(n)
    // Past 2 GB malloc's result is negative (int32); the backend frees it as unsigned.
    sizes.set(ptr >>> 0, n)
    live += n
    peak = Math.max(peak, live)
    return ptr
  }
  wasm._free = (ptr) => {
    live -= sizes.get(ptr >>> 0) ?? 0
    sizes.delete(ptr >>> 0)
    free(ptr)
  }
  return { peak: () => peak }
}

/** One configuration, in this process: `--one MODEL VARIANT` (indexes), or the baseline. */
async function one(m: number | null, v: number): Promise<Row> {
  const { info } = await loadBackend(backendName)
  installKernels(tf)
  if (m === null)
    return {
      variant: info.name,
      trainedParameters: 0,
      stepMs: 0,
      peakRssMB: mb(peakRss()),
      peakTensorMB: null,
    }
  const allocations = trackWasmAllocations()
  const c = models[m]
  const model = modelConfigSchema.parse(c.model)
  // The weights being fine-tuned: the same for every variant.
  const base = initialValues(model, new Rng(7))
  const tokens = Uint16Array.from({ length: 200_000 }, (_, i) => (i * 7919 + 13) % model.vocabSize)
  const train = trainConfigSchema.parse({ batchSize: c.batch, threads: 1, ...variants[v].train })
  const trainer = await Trainer.create(
    model,
    train,
    { train: tokens, val: tokens, vocabSize: model.vocabSize },
    { initialWeights: base },
  )
  base.clear() // the trainer holds its own copy; these would only add to the peak
  const trained = [...trainer.params.values()]
    .filter((p) => p.trainable)
    .reduce((n, p) => n + p.size, 0)
  await trainer.trainStep()
  await trainer.trainStep() // warm-up: kernels, moments allocated
  const times: number[] = []
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now()
    await trainer.trainStep()
    times.push(performance.now() - t0)
  }
  await trainer.dispose()
  return {
    variant: variants[v].name,
    trainedParameters: trained,
    stepMs: Math.round(median(times)),
    peakRssMB: mb(peakRss()),
    peakTensorMB: allocations ? mb(allocations.peak()) : null,
  }
}

const args = process.argv.slice(2)
if (args[0] === '--one') {
  const m = args[1] === 'baseline' ? null : Number(args[1])
  process.stdout.write(`${JSON.stringify(await one(m, Number(args[2] ?? 0)))}\n`)
} else {
  /** A configuration in its own process; one that dies (out of memory) says why. */
  const child = (name: string, ...a: string[]): Row | { variant: string; failed: string } => {
    const run = spawnSync(
      process.execPath,
      [...process.execArgv, import.meta.filename, '--one', ...a],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 },
    )
    if (run.status === 0) return JSON.parse(run.stdout) as Row
    const why = run.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^(\w*Error|Aborted)/.test(l))
      .at(-1)
    return { variant: name, failed: (why ?? `exit code ${run.status}`).slice(0, 200) }
  }
  const baseline = child('baseline', 'baseline')
  if ('failed' in baseline) throw new Error(`The backend did not load: ${baseline.failed}`)
  note(`process baseline (Node, tfjs, ${baseline.variant}): ${baseline.peakRssMB} MB`)
  const ratio = (a: number | null, b: number | null) =>
    a === null || b === null ? null : +(a / b).toFixed(2)
  const results = []
  // MODELS=0,2 measures some of the models (by index); all by default.
  const picked = process.env.MODELS?.split(',').map(Number) ?? Array.from(models, (_, i) => i)
  for (const m of picked) {
    if (!models[m]) throw new Error(`MODELS: there is no model ${m} (0 to ${models.length - 1}).`)
    const rows = variants.map((variant, v) => {
      const row = child(variant.name, String(m), String(v))
      note(
        'failed' in row
          ? `${models[m].name} · ${row.variant}: failed (${row.failed})`
          : `${models[m].name} · ${row.variant}: ${row.stepMs} ms, peak RSS ${row.peakRssMB} MB, tensors ${row.peakTensorMB} MB`,
      )
      return row
    })
    const model = modelConfigSchema.parse(models[m].model)
    results.push({
      model: models[m].name,
      parameters: countParams(model).total,
      batch: models[m].batch,
      contextLength: model.contextLength,
      variants: rows.map((r, v) => {
        const full = rows[variants[v].against]
        if ('failed' in r || 'failed' in full) return { ...r, against: full.variant }
        return {
          ...r,
          against: full.variant,
          ofFull: {
            time: ratio(r.stepMs, full.stepMs),
            peakRss: ratio(r.peakRssMB, full.peakRssMB),
            peakTensors: ratio(r.peakTensorMB, full.peakTensorMB),
            // What the run itself adds above an idle process with the backend loaded.
            peakAboveBaseline: ratio(
              r.peakRssMB - baseline.peakRssMB,
              full.peakRssMB - baseline.peakRssMB,
            ),
          },
        }
      }),
    })
  }
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'LoRA against full fine-tuning', backend: backendName, stepsTimed: steps, processBaselineMB: baseline.peakRssMB, results }, null, 2)}\n`,
  )
}
