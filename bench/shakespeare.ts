/**
 * The reference benchmark: nanoGPT's documented CPU run on character-level tiny
 * Shakespeare, trained by Frugal's engine, compared with the published results.
 *
 *   npm run bench:shakespeare            (wasm backend, every step: about 2000)
 *   STEPS=200 npm run bench:shakespeare  (a quick look)
 *   FRUGAL_BACKEND=cpu|wasm|tensorflow   (another backend), THREADS=n (data-parallel threads)
 *
 * Reads FRUGAL_SHAKESPEARE, else ../shared/data/tinyshakespeare.txt. Prints one JSON object
 * on stdout; progress on stderr.
 */
import * as tf from '@tensorflow/tfjs-core'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { loadBackend } from '../src/worker/backend'
import { externalDataPath, tinyShakespeare } from './external-data'
import { installKernels } from '../src/worker/kernels'
import { modelConfigSchema } from '../src/worker/model/config'
import { countParams } from '../src/worker/model/params'
import { trainChar } from '../src/worker/tokenizer'
import { trainConfigSchema } from '../src/worker/train/config'
import { Trainer } from '../src/worker/train/trainer'

/** nanoGPT's published figures for this configuration (README and config/train_shakespeare_char.py). */
const reference = {
  source:
    'karpathy/nanoGPT, CPU run of config/train_shakespeare_char.py as documented in its README',
  valLoss: 1.88,
  /** PyTorch on this 2-core machine with 2 threads, as stated in the issue. */
  pytorchCpuSeconds: 148,
}
const lossBar = 1.89
const timeBar = 3 * reference.pytorchCpuSeconds

const path = externalDataPath(tinyShakespeare)
const steps = Number(process.env.STEPS ?? 2000)
const backendName = process.env.FRUGAL_BACKEND ?? 'wasm'
const started = performance.now()

const { info } = await loadBackend(backendName)
installKernels(tf)
const text = readFileSync(path, 'utf8')
// nanoGPT's character vocabulary: the characters of the text, no special or byte tokens.
const { tokenizer } = await trainChar([text], { specialTokens: [], byteFallback: false })
const ids = tokenizer.encode(text)
const split = Math.floor(ids.length * 0.9) // the first 90% trains, the rest validates
const data = {
  train: ids.subarray(0, split),
  val: ids.subarray(split),
  vocabSize: tokenizer.vocabSize,
}

const model = modelConfigSchema.parse({
  vocabSize: tokenizer.vocabSize,
  contextLength: 64,
  layers: 4,
  heads: 4,
  width: 128,
})
const threads = Number(
  process.env.THREADS ??
    (backendName === 'wasm' || backendName === 'cpu' ? Math.min(4, availableParallelism()) : 1),
)
const train = trainConfigSchema.parse({
  steps,
  batchSize: 12,
  learningRate: 1e-3,
  minLearningRate: 1e-4,
  warmupSteps: 100,
  decaySteps: 2000,
  beta1: 0.9,
  beta2: 0.99,
  weightDecay: 0.1,
  gradClip: 1,
  seed: 1337,
  threads,
  evalBatches: 200,
})
const trainer = await Trainer.create(model, train, data, {
  replicaEntry: resolve(
    import.meta.dirname,
    '..',
    'src',
    'worker',
    'train',
    'parallel',
    'replica.ts',
  ),
  backend: backendName,
})
process.stderr.write(
  `Training ${countParams(model).total.toLocaleString('en')} parameters on ${info.name} (${info.detail}), ${threads} thread(s), ${steps} steps\n`,
)
const trainStart = performance.now()
let last = 0
for (let s = 0; s < steps; s++) {
  const m = await trainer.trainStep()
  last = m.loss
  if ((s + 1) % 100 === 0) {
    const elapsed = (performance.now() - trainStart) / 1000
    process.stderr.write(
      `step ${s + 1}  loss ${m.loss.toFixed(4)}  ${elapsed.toFixed(0)} s  ${(((s + 1) * 12 * 64) / elapsed).toFixed(0)} tok/s\n`,
    )
  }
}
const trainSeconds = (performance.now() - trainStart) / 1000
const valLoss = await trainer.evaluate(200)
await trainer.dispose()
const wallSeconds = (performance.now() - started) / 1000
const result = {
  benchmark: 'nanoGPT shakespeare_char (CPU config)',
  backend: `${info.name} ${info.version} (${info.detail})`,
  threads,
  parameters: countParams(model).total,
  vocabSize: tokenizer.vocabSize,
  steps,
  tokensPerStep: 12 * 64,
  trainLoss: Number(last.toFixed(4)),
  valLoss: Number(valLoss.toFixed(4)),
  valBatches: 200,
  trainSeconds: Number(trainSeconds.toFixed(1)),
  wallSeconds: Number(wallSeconds.toFixed(1)),
  tokensPerSecond: Math.round((steps * 12 * 64) / trainSeconds),
  reference,
  bars: {
    valLossAtMost: lossBar,
    secondsAtMost: timeBar,
    meetsLoss: steps >= 2000 ? valLoss <= lossBar : null,
    meetsTime: steps >= 2000 ? wallSeconds <= timeBar : null,
    versusPytorch:
      steps >= 2000 ? Number((wallSeconds / reference.pytorchCpuSeconds).toFixed(2)) : null,
  },
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
