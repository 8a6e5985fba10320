/**
 * What gradient checkpointing saves: peak tensor memory of one training step with and
 * without it, for a few model sizes (and the step time each costs).
 *
 *   npm run bench:memory        prints one JSON object on stdout
 *
 * Memory is tfjs's own accounting of live tensor bytes (tf.profile's peakBytes), the part
 * checkpointing changes; it is deterministic, so background load does not affect it.
 */
import * as tf from '@tensorflow/tfjs-core'
import { loadBackend } from '../src/worker/backend'
import { installKernels } from '../src/worker/kernels'
import { modelConfigSchema, type ModelConfigInput } from '../src/worker/model/config'
import { countParams } from '../src/worker/model/params'
import { trainConfigSchema } from '../src/worker/train/config'
import { computeGradients } from '../src/worker/train/gradients'
import { numericsFor } from '../src/worker/train/precision'
import { Trainer } from '../src/worker/train/trainer'

const { info } = await loadBackend(process.env.FRUGAL_BACKEND ?? 'wasm')
installKernels(tf)

const cases: { name: string; model: ModelConfigInput; batch: number }[] = [
  {
    name: 'shakespeare-char',
    model: { vocabSize: 66, contextLength: 64, layers: 4, heads: 4, width: 128 },
    batch: 12,
  },
  {
    name: 'tiny-dense (bpe 2048)',
    model: { vocabSize: 2048, contextLength: 128, layers: 4, heads: 4, width: 128 },
    batch: 8,
  },
  {
    name: 'tiny-moe (bpe 2048)',
    model: {
      vocabSize: 2048,
      contextLength: 128,
      layers: 4,
      heads: 4,
      width: 128,
      moe: { routedExperts: 8, topK: 2, firstDenseLayers: 1, capacityFactor: null },
    },
    batch: 8,
  },
  {
    name: 'deeper (8 layers, 256 wide)',
    model: { vocabSize: 2048, contextLength: 256, layers: 8, heads: 8, width: 256 },
    batch: 8,
  },
]

const results = []
for (const c of cases) {
  const model = modelConfigSchema.parse(c.model)
  const T = model.contextLength
  const tokens = Uint16Array.from({ length: 20_000 }, (_, i) => (i * 7919) % model.vocabSize)
  const trainer = await Trainer.create(
    model,
    trainConfigSchema.parse({ batchSize: c.batch, threads: 1 }),
    { train: tokens, val: tokens, vocabSize: model.vocabSize },
  )
  const batch = {
    inputs: Int32Array.from(tokens.subarray(0, c.batch * T)),
    targets: Int32Array.from(tokens.subarray(1, c.batch * T + 1)),
    B: c.batch,
    T,
  }
  const trainable = [...trainer.params.keys()].filter((n) => !n.endsWith('router.bias'))
  const measure = async (checkpointing: boolean) => {
    const run = () =>
      computeGradients({
        model: trainer.model,
        params: trainer.params,
        trainable,
        batch,
        numerics: numericsFor('fp32'),
        lossScale: 1,
        labelSmoothing: 0,
        dropPath: null,
        checkpointing,
      })
    ;(await run()).grads.forEach((g) => g.dispose()) // warm-up: kernels, tables
    const before = tf.memory().numBytes
    const t0 = performance.now()
    const profile = await tf.profile(async () => {
      ;(await run()).grads.forEach((g) => g.dispose())
    })
    return { peakBytes: profile.peakBytes - before, ms: performance.now() - t0 }
  }
  const full = await measure(false)
  const ckpt = await measure(true)
  results.push({
    model: c.name,
    parameters: countParams(model).total,
    batch: c.batch,
    contextLength: T,
    peakMB: {
      full: +(full.peakBytes / 1e6).toFixed(1),
      checkpointed: +(ckpt.peakBytes / 1e6).toFixed(1),
    },
    saved: +(1 - ckpt.peakBytes / full.peakBytes).toFixed(3),
    stepMs: { full: Math.round(full.ms), checkpointed: Math.round(ckpt.ms) },
  })
  await trainer.dispose()
}
process.stdout.write(
  `${JSON.stringify({ benchmark: 'gradient checkpointing memory', backend: `${info.name} ${info.version}`, results }, null, 2)}\n`,
)
