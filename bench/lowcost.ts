/**
 * The cost report: what each low-cost technique buys on a fixed corpus and seed, measured
 * here. Every pair trains the same data (character-level tiny Shakespeare, the first 90%)
 * for the same steps and batch, and is judged on the same validation tokens (the last
 * 10%).
 *
 *   npm run bench:lowcost              (STEPS=400 per run: about 20 minutes on 2 cores)
 *   STEPS=60 npm run bench:lowcost     (a quick check that every experiment runs)
 *   ONLY=curriculum,int8 npm run bench:lowcost   (some experiments: moe, distillation,
 *                                       open-teacher, precision, int8, curriculum; the dense
 *                                       baseline always)
 *   FRUGAL_BACKEND=cpu|wasm|tensorflow, THREADS=n
 *
 * Prints one JSON object on stdout (each comparison, its configurations and which side
 * won by how much); progress on stderr.
 */
import * as tf from '@tensorflow/tfjs-core'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Store } from '../src/store'
import { loadBackend } from '../src/worker/backend'
import { externalDataPath, tinyShakespeare } from './external-data'
import { exportCheckpoint, int8RoundTrip } from '../src/worker/export/export'
import { importModel } from '../src/worker/export/import'
import { disposeParams, loadCheckpoint, toParams } from '../src/worker/infer/load'
import { perplexity } from '../src/worker/infer/perplexity'
import { installKernels } from '../src/worker/kernels'
import {
  modelConfigSchema,
  type ModelConfig,
  type ModelConfigInput,
} from '../src/worker/model/config'
import { trainingFlopsPerToken } from '../src/worker/model/estimate'
import { countParams, paramSpecs } from '../src/worker/model/params'
import { trainBpe, trainChar } from '../src/worker/tokenizer'
import { trainConfigSchema, type TrainConfigInput } from '../src/worker/train/config'
import { Trainer, type TrainerOptions } from '../src/worker/train/trainer'
import { referenceDifficulty, unigramDifficulty } from '../src/worker/train/curriculum'
import { Transformer } from '../src/worker/model/model'

const path = externalDataPath(tinyShakespeare)
const steps = Number(process.env.STEPS ?? 400)
const backendName = process.env.FRUGAL_BACKEND ?? 'wasm'
const threads = Number(
  process.env.THREADS ??
    (backendName === 'wasm' || backendName === 'cpu' ? Math.min(4, availableParallelism()) : 1),
)
const replicaEntry = resolve(
  import.meta.dirname,
  '..',
  'src',
  'worker',
  'train',
  'parallel',
  'replica.ts',
)
/** Validation tokens every model is judged on (the same ones, in the same windows). */
const VAL_TOKENS = 65_536
const experiments = [
  'moe',
  'distillation',
  'open-teacher',
  'precision',
  'int8',
  'curriculum',
] as const
const only = process.env.ONLY?.split(',').map((x) => x.trim())
const unknown = only?.filter((x) => !(experiments as readonly string[]).includes(x)) ?? []
if (unknown.length)
  throw new Error(
    `ONLY: unknown experiment ${unknown.join(', ')}; pick from ${experiments.join(', ')}.`,
  )
const want = (e: (typeof experiments)[number]) => !only || only.includes(e)
const started = performance.now()

const { info } = await loadBackend(backendName)
installKernels(tf)
const text = readFileSync(path, 'utf8')
const { tokenizer } = await trainChar([text], { specialTokens: [], byteFallback: false })
const ids = tokenizer.encode(text)
const split = Math.floor(ids.length * 0.9)
interface Corpus {
  train: Int32Array
  val: Int32Array
  vocabSize: number
}
const data: Corpus = {
  train: ids.subarray(0, split),
  val: ids.subarray(split),
  vocabSize: tokenizer.vocabSize,
}

const base: ModelConfigInput = {
  vocabSize: tokenizer.vocabSize,
  contextLength: 64,
  layers: 4,
  heads: 4,
  width: 128,
}
const trainBase: TrainConfigInput = {
  steps,
  batchSize: 12,
  learningRate: 1e-3,
  minLearningRate: 1e-4,
  warmupSteps: Math.min(100, Math.floor(steps / 10)),
  decaySteps: steps,
  beta2: 0.99,
  weightDecay: 0.1,
  gradClip: 1,
  seed: 1337,
  threads,
  evalEvery: 0,
}

interface Outcome {
  name: string
  valLoss: number
  perplexity: number
  parameters: number
  activeParameters: number
  trainingFlops: number
  seconds: number
  skippedSteps: number
  /** MoE: mean over layers of the last 50 steps' max/mean expert load. */
  imbalance: number | null
  finalKl: number | null
  weights: Map<string, Float32Array>
  config: ModelConfig
}

const round = (x: number, d = 4) => Number(x.toFixed(d))

/** Validation loss and perplexity of weights on the fixed validation tokens. */
async function judge(
  config: ModelConfig,
  weights: ReadonlyMap<string, Float32Array>,
  corpus: Corpus = data,
) {
  const params = toParams(config, weights)
  try {
    return await perplexity(config, params, corpus.val, { maxTokens: VAL_TOKENS })
  } finally {
    disposeParams(params)
  }
}

async function run(
  name: string,
  model: ModelConfigInput,
  train: TrainConfigInput = {},
  options: TrainerOptions = {},
  corpus: Corpus = data,
): Promise<Outcome> {
  const config = modelConfigSchema.parse(model)
  const trainConfig = trainConfigSchema.parse({ ...trainBase, ...train })
  const runSteps = trainConfig.steps
  const t0 = performance.now()
  const trainer = await Trainer.create(config, trainConfig, corpus, {
    replicaEntry,
    backend: backendName,
    ...options,
  })
  const imbalance: number[] = []
  let skipped = 0
  let kl: number | null = null
  for (let s = 0; s < runSteps; s++) {
    const m = await trainer.trainStep()
    skipped = m.skippedTotal
    kl = m.kl
    if (s >= runSteps - 50 && m.moe.length)
      imbalance.push(m.moe.reduce((a, l) => a + l.imbalance, 0) / m.moe.length)
    if ((s + 1) % 100 === 0)
      process.stderr.write(`  ${name}: step ${s + 1} loss ${m.loss.toFixed(4)}\n`)
  }
  const weights = new Map<string, Float32Array>()
  for (const [k, v] of (await trainer.state()).tensors)
    if (k.startsWith('param/')) weights.set(k.slice(6), v)
  await trainer.dispose()
  const seconds = (performance.now() - t0) / 1000
  const r = await judge(config, weights, corpus)
  const counts = countParams(config)
  const outcome: Outcome = {
    name,
    valLoss: r.loss,
    perplexity: r.perplexity,
    parameters: counts.total,
    activeParameters: counts.active,
    trainingFlops:
      trainingFlopsPerToken(config) * runSteps * trainBase.batchSize! * config.contextLength,
    seconds,
    skippedSteps: skipped,
    imbalance: imbalance.length ? imbalance.reduce((a, b) => a + b, 0) / imbalance.length : null,
    finalKl: kl,
    weights,
    config,
  }
  process.stderr.write(`${name}: validation loss ${r.loss.toFixed(4)} in ${seconds.toFixed(0)} s\n`)
  return outcome
}

const summary = (o: Outcome) => ({
  valLoss: round(o.valLoss),
  perplexity: round(o.perplexity, 3),
  parameters: o.parameters,
  activeParameters: o.activeParameters,
  trainingGflops: round(o.trainingFlops / 1e9, 1),
  seconds: round(o.seconds, 1),
  ...(o.skippedSteps ? { skippedSteps: o.skippedSteps } : {}),
  ...(o.imbalance !== null ? { expertImbalance: round(o.imbalance, 3) } : {}),
})

/** A distilled run's summary, with its last distillation term T²·KL. */
const distilledSummary = (o: Outcome) => ({
  ...summary(o),
  finalKl: o.finalKl === null ? null : round(o.finalKl),
})

/** Lower is better: which won and by how much (relative), or a tie within 0.5%. */
function verdict(a: [string, number], b: [string, number]) {
  const [winner, loser] = a[1] <= b[1] ? [a, b] : [b, a]
  const rel = (loser[1] - winner[1]) / loser[1]
  return rel < 0.005
    ? { winner: 'tie', note: `within 0.5% (${(rel * 100).toFixed(2)}%)` }
    : { winner: winner[0], byPercent: round(rel * 100, 2) }
}

process.stderr.write(
  `Cost report: ${steps} steps per run, batch 12 × 64 tokens, ${info.name} (${info.detail}), ${threads} thread(s)\n`,
)

// 1. Dense vs MoE at (about) equal training FLOPs: 8 experts of half the dense FFN width
// (the default expert width for top-2), so each token's FFN work matches the dense model's.
const dense = await run('dense', base)
const moeModel = (balance: 'aux' | 'aux-free'): ModelConfigInput => ({
  ...base,
  moe: {
    routedExperts: 8,
    sharedExperts: 0,
    topK: 2,
    firstDenseLayers: 0,
    balance,
  },
})

async function moeExperiments() {
  const moeAux = await run('moe-aux', moeModel('aux'))
  const moeFree = await run('moe-aux-free', moeModel('aux-free'))
  return {
    denseVsMoe: {
      configuration:
        'dense SwiGLU vs 8 routed experts of half the FFN width, top-2, same steps and batch',
      dense: summary(dense),
      moe: summary(moeAux),
      ...verdict(['dense', dense.valLoss], ['moe', moeAux.valLoss]),
    },
    auxVsAuxFree: {
      configuration:
        'the MoE above with the Switch auxiliary loss (α 0.01) vs DeepSeek-V3 bias balancing (γ 0.001)',
      aux: summary(moeAux),
      auxFree: summary(moeFree),
      lossVerdict: verdict(['aux', moeAux.valLoss], ['aux-free', moeFree.valLoss]),
      imbalanceVerdict: verdict(
        ['aux', moeAux.imbalance ?? 0],
        ['aux-free', moeFree.imbalance ?? 0],
      ),
    },
  }
}

// 2. Distillation: a small student on labels only, and taught by the dense model.
async function distillation() {
  const studentModel: ModelConfigInput = { ...base, layers: 2, width: 64 }
  const labelsOnly = await run('student-labels', studentModel)
  const distilled = await run(
    'student-distilled',
    studentModel,
    { distillAlpha: 0.5, distillTemperature: 2 },
    { teacher: { config: dense.config, weights: dense.weights } },
  )
  return {
    configuration: 'student 2 layers × width 64; teacher: the dense model above; α 0.5, T 2',
    teacher: summary(dense),
    labelsOnly: summary(labelsOnly),
    distilled: distilledSummary(distilled),
    ...verdict(['labels only', labelsOnly.valLoss], ['distilled', distilled.valLoss]),
  }
}

// 2b. A teacher in an open model's layout. No network here to fetch a released model, and a
// random one knows nothing, so the teacher is trained here (on 4× the student's tokens, as a
// released model has seen far more text than the student will) in Qwen2.5's architecture
// (grouped-query attention, q/k/v biases, tied embeddings, RoPE θ 10⁶, a byte-level BPE
// tokenizer), written as a Hugging Face folder by the exporter in bf16 (as such models are
// published), stripped of Frugal's own config entry so that the importer reads Qwen2's fields
// as it does for a downloaded Qwen2.5, imported into a project, and loaded back from there
// as the teacher of a small student, on its own tokenizer's ids.
async function openTeacher() {
  const trainText = text.slice(0, Math.floor(text.length * 0.9))
  const { tokenizer: bpe } = await trainBpe([trainText], { vocabSize: 512 })
  const bpeIds = bpe.encode(text)
  const cut = Math.floor(bpeIds.length * 0.9)
  const corpus: Corpus = {
    train: bpeIds.subarray(0, cut),
    val: bpeIds.subarray(cut),
    vocabSize: bpe.vocabSize,
  }
  const teacher = await run(
    'qwen2.5-layout-teacher',
    {
      ...base,
      vocabSize: bpe.vocabSize,
      kvHeads: 2,
      attentionBias: true,
      tieEmbeddings: true,
      ropeTheta: 1e6,
    },
    { steps: 4 * steps, decaySteps: 4 * steps },
    {},
    corpus,
  )

  const dir = mkdtempSync(join(tmpdir(), 'frugal-open-teacher-'))
  const store = Store.create(join(dir, 'project.frugal'))
  try {
    const now = new Date().toISOString()
    const tokenizerId = store.tokenizers.insert({
      name: 'shakespeare-bpe-512',
      kind: 'bpe',
      vocabSize: bpe.vocabSize,
      datasetId: null,
      options: {},
      stats: null,
      json: bpe.serialize(),
      createdAt: now,
    })
    store.runs.create(
      {
        id: 'teacher',
        name: 'teacher',
        modelConfig: teacher.config,
        trainConfig: trainConfigSchema.parse({ ...trainBase }),
        data: { datasetId: null, tokenizerId, valFraction: 0.1 },
        tokenSetId: null,
        parentRunId: null,
        parentCheckpointId: null,
      },
      now,
    )
    store.checkpoints.write({
      runId: 'teacher',
      step: steps,
      reason: 'final',
      state: {},
      tensors: new Map(
        paramSpecs(teacher.config).map((p) => [
          `param/${p.name}`,
          { shape: [...p.shape], values: teacher.weights.get(p.name)! },
        ]),
      ),
      trainLoss: null,
      valLoss: null,
      createdAt: now,
      fullEvery: 1,
    })
    const folder = join(dir, 'qwen2.5-layout')
    await exportCheckpoint(store, { runId: 'teacher', out: folder, dtype: 'bf16' })
    const configPath = join(folder, 'config.json')
    const hfConfig = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>
    delete hfConfig.frugal_config
    writeFileSync(configPath, JSON.stringify(hfConfig, null, 2))
    const architecture = (hfConfig.architectures as string[])[0]
    if (architecture !== 'Qwen2ForCausalLM')
      throw new Error(`The teacher was written as ${architecture}, not Qwen2ForCausalLM.`)

    const imported = importModel(store, { path: folder, name: 'Qwen2.5-layout teacher' })
    const loaded = loadCheckpoint(store, imported.runId)
    const reencoded = loaded.tokenizer.encode(text)
    if (reencoded.length !== bpeIds.length || reencoded.some((id, i) => id !== bpeIds[i]))
      throw new Error('The imported tokenizer does not give the exported one’s ids.')
    const importedJudge = await judge(loaded.config, loaded.weights, corpus)

    const studentModel: ModelConfigInput = {
      ...base,
      vocabSize: bpe.vocabSize,
      layers: 2,
      width: 64,
    }
    const labelsOnly = await run('bpe-student-labels', studentModel, {}, {}, corpus)
    const teacherOption = { teacher: { config: loaded.config, weights: loaded.weights } }
    // Hinton's setting (as in the experiment above), and one that leans on the teacher:
    // mostly its distribution (α 0.1), unsoftened (T 1).
    const distilled = await run(
      'bpe-student-distilled',
      studentModel,
      { distillAlpha: 0.5, distillTemperature: 2 },
      teacherOption,
      corpus,
    )
    const leaning = await run(
      'bpe-student-distilled-a0.1-t1',
      studentModel,
      { distillAlpha: 0.1, distillTemperature: 1 },
      teacherOption,
      corpus,
    )
    return {
      configuration:
        'teacher: 4 layers × width 128, 4 heads over 2 key/value heads, q/k/v biases, tied embeddings, byte-level BPE of 512 ids trained on the training split, 4× the steps of the students; exported as Qwen2ForCausalLM in bf16 without frugal_config, imported, and loaded from the project; student 2 layers × width 64 on the same ids; distilled with α 0.5, T 2 and with α 0.1, T 1',
      tokens: { train: corpus.train.length, validation: corpus.val.length },
      teacher: {
        ...summary(teacher),
        architecture,
        importedValLoss: round(importedJudge.loss),
        importedDtype: imported.dtype,
      },
      labelsOnly: summary(labelsOnly),
      distilled: distilledSummary(distilled),
      distilledAlpha01T1: distilledSummary(leaning),
      verdictAlpha05T2: verdict(
        ['labels only', labelsOnly.valLoss],
        ['distilled', distilled.valLoss],
      ),
      verdictAlpha01T1: verdict(
        ['labels only', labelsOnly.valLoss],
        ['distilled', leaning.valLoss],
      ),
    }
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

// 3. Reduced precision (emulated): the dense model's GEMM inputs in bf16 and fp8.
async function precision() {
  const bf16 = await run('dense-bf16', base, { precision: 'bf16' })
  const fp8 = await run('dense-fp8-e4m3', base, { precision: 'fp8-e4m3' })
  return {
    configuration: 'the dense model with GEMM inputs rounded to each format (emulated on float32)',
    fp32: summary(dense),
    bf16: summary(bf16),
    fp8E4m3: summary(fp8),
  }
}

// 4. int8: post-training quantization of the fp32 dense model vs QAT over its last 20%.
async function int8() {
  const ptq = await judge(dense.config, int8RoundTrip(dense.config, dense.weights))
  const qat = await run('dense-qat', base, { qatStart: 0.8, qatActivations: 'none' })
  const qatInt8 = await judge(qat.config, int8RoundTrip(qat.config, qat.weights))
  return {
    configuration:
      'weight-only int8 per output channel (the export’s); QAT over the last 20% of steps',
    fp32: { valLoss: round(dense.valLoss), perplexity: round(dense.perplexity, 3) },
    postTraining: { valLoss: round(ptq.loss), perplexity: round(ptq.perplexity, 3) },
    qat: {
      valLoss: round(qatInt8.loss),
      perplexity: round(qatInt8.perplexity, 3),
      floatValLoss: round(qat.valLoss),
    },
    ...verdict(['post-training int8', ptq.loss], ['QAT int8', qatInt8.loss]),
  }
}

// 5. Curriculum at equal tokens (same steps and batch): difficulty from the dense model
// (a reference trained on the same data) and from unigram surprisal, vs the plain dense run.
async function curriculum() {
  const S = dense.config.contextLength
  const t0 = performance.now()
  const params = toParams(dense.config, dense.weights)
  const net = new Transformer(dense.config)
  const byReference = await referenceDifficulty(net, params, data.train, S)
  disposeParams(params)
  net.dispose()
  const scoringSeconds = (performance.now() - t0) / 1000
  const reference = await run(
    'dense-curriculum-reference',
    base,
    { curriculum: 'reference' },
    { curriculum: { difficulty: byReference } },
  )
  const unigram = await run(
    'dense-curriculum-unigram',
    base,
    { curriculum: 'unigram' },
    { curriculum: { difficulty: unigramDifficulty(data.train, S, data.vocabSize) } },
  )
  return {
    configuration:
      'the dense model, same steps and batch (equal tokens); windows of 64 tokens in easy/medium/hard thirds by the dense model’s loss (reference) or unigram surprisal; mixes 70/20/10 → 30/50/20 → 10/30/60 by the smoothed loss at the tertile thresholds',
    off: summary(dense),
    reference: { ...summary(reference), scoringSeconds: round(scoringSeconds, 1) },
    unigram: summary(unigram),
    referenceVerdict: verdict(['off', dense.valLoss], ['reference', reference.valLoss]),
    unigramVerdict: verdict(['off', dense.valLoss], ['unigram', unigram.valLoss]),
  }
}

const report = {
  benchmark: 'Frugal cost report (char-level tiny Shakespeare, seed 1337)',
  backend: `${info.name} ${info.version} (${info.detail})`,
  threads,
  stepsPerRun: steps,
  tokensPerStep: 12 * 64,
  validationTokens: VAL_TOKENS,
  base: modelConfigSchema.parse(base),
  ...(want('moe') ? await moeExperiments() : {}),
  ...(want('distillation') ? { distillation: await distillation() } : {}),
  ...(want('open-teacher') ? { openTeacher: await openTeacher() } : {}),
  ...(want('precision') ? { precision: await precision() } : {}),
  ...(want('int8') ? { int8: await int8() } : {}),
  ...(want('curriculum') ? { curriculum: await curriculum() } : {}),
  wallSeconds: round((performance.now() - started) / 1000, 1),
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
