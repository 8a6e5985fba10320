/**
 * What an open model costs as a distillation teacher: import time, the project's size, and
 * the teacher's forward pass (tokens/s, peak tensor memory, process memory) on this
 * machine's backend, for models of the exact shapes of SmolLM2-135M and Qwen2.5-0.5B.
 *
 *   npm run bench:teacher                       both shapes
 *   npm run bench:teacher -- --family smollm2   one (smollm2 or qwen2.5)
 *   FRUGAL_BACKEND=webgpu|cpu                   another backend (default wasm)
 *
 * The weights are random (no network here to fetch the released ones), which costs the
 * same: speed and memory depend on the shapes, not on the values. Prints one JSON object
 * on stdout; progress on stderr.
 */
import * as tf from '@tensorflow/tfjs-core'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Store } from '../src/store'
import { loadBackend } from '../src/worker/backend'
import { importModel } from '../src/worker/export/import'
import { loadCheckpoint } from '../src/worker/infer/load'
import { installKernels } from '../src/worker/kernels'
import { modelConfigSchema } from '../src/worker/model/config'
import { countParams } from '../src/worker/model/params'
import { trainBpe } from '../src/worker/tokenizer'
import { Teacher } from '../src/worker/train/teacher'
import {
  familyTokenizer,
  writeFamilyFolder,
  type FolderShape,
} from '../test/helpers/open-model-folders'

/** The released models' shapes (their config.json). */
const shapes: Record<'smollm2' | 'qwen2.5', Omit<FolderShape, 'bos' | 'eos'>> = {
  smollm2: { hidden: 576, heads: 9, kvHeads: 3, layers: 30, intermediate: 1536, vocab: 49152 },
  'qwen2.5': { hidden: 896, heads: 14, kvHeads: 2, layers: 24, intermediate: 4864, vocab: 151936 },
}

const { values: args } = parseArgs({
  options: {
    family: { type: 'string' },
    batch: { type: 'string', default: '2' },
    context: { type: 'string', default: '256' },
  },
})
const families = (args.family ? [args.family] : Object.keys(shapes)) as (keyof typeof shapes)[]
for (const f of families)
  if (!(f in shapes)) throw new Error(`--family is smollm2 or qwen2.5, not ${f}`)
const B = Number(args.batch)
const T = Number(args.context)

const backendName = process.env.FRUGAL_BACKEND ?? 'wasm'
const { info } = await loadBackend(backendName)
installKernels(tf)
const log = (s: string) => process.stderr.write(`${s}\n`)
const mb = (bytes: number) => Math.round(bytes / 2 ** 20)

// Any byte-level vocabulary will do: the embedding rows beyond it are padding, as in Qwen.
const sample = 'The quick brown fox jumps over the lazy dog. 0123456789 '.repeat(200)
const base = (await trainBpe([sample], { vocabSize: 300 })).tokenizer.serialize()

const results = []
for (const family of families) {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-bench-teacher-'))
  try {
    const tok = familyTokenizer(family, base)
    const shape = { ...shapes[family], bos: tok.bos, eos: tok.eos }
    log(`${family}: writing a folder of its shape (random bf16 weights)`)
    writeFamilyFolder(join(dir, 'model'), family, shape, tok)
    const store = Store.create(join(dir, 'p.frugal'))
    let t0 = performance.now()
    const imported = importModel(store, { path: join(dir, 'model'), name: family })
    const importSeconds = (performance.now() - t0) / 1000
    const loaded = loadCheckpoint(store, imported.runId)
    store.close()
    const projectBytes = statSync(join(dir, 'p.frugal')).size
    log(
      `${family}: ${imported.parameters.toLocaleString('en')} parameters imported in ${importSeconds.toFixed(1)} s`,
    )

    // A student of the tokenizer's size, with the teacher's context cut to T.
    const student = modelConfigSchema.parse({ vocabSize: tok.size, contextLength: T })
    const teacher = Teacher.load(loaded, student, null)
    const ids = new Int32Array(B * T).map((_, i) => (i * 7919) % tok.size)
    const batch = { inputs: ids, targets: ids, B, T }
    const forward = async () => {
      const { soft, hidden } = await teacher.targets(batch, 2)
      await soft.data()
      tf.dispose([soft, ...hidden])
    }
    let seconds: number
    let profile: Awaited<ReturnType<typeof tf.profile>>
    try {
      await forward() // warm-up: kernels compile, buffers are allocated
      const reps = 2
      t0 = performance.now()
      for (let i = 0; i < reps; i++) await forward()
      seconds = (performance.now() - t0) / 1000 / reps
      profile = await tf.profile(forward)
    } catch (err) {
      // Too big for this backend (the wasm heap holds 4 GB): that is the finding.
      const error = (err as Error).message
      log(`${family}: ${error}`)
      results.push({ family, parameters: imported.parameters, importSeconds, error })
      continue
    } finally {
      teacher.dispose()
    }
    const rss = process.memoryUsage().rss
    const result = {
      family,
      parameters: countParams(loaded.config).total,
      importSeconds: Number(importSeconds.toFixed(1)),
      projectMB: mb(projectBytes),
      batch: `${B} × ${T} tokens`,
      secondsPerBatch: Number(seconds.toFixed(2)),
      tokensPerSecond: Math.round((B * T) / seconds),
      peakTensorMB: mb(profile.peakBytes),
      processRssMB: mb(rss),
    }
    log(`${family}: ${result.tokensPerSecond} tokens/s, peak tensors ${result.peakTensorMB} MB`)
    results.push(result)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

process.stdout.write(
  `${JSON.stringify({ benchmark: 'teacher cost of open-model shapes', backend: `${info.name} (${info.detail})`, results }, null, 2)}\n`,
)
