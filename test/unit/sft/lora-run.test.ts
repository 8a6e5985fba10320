import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateOptionsSchema } from '../../../src/shared/generate'
import { Decoder } from '../../../src/worker/infer/decoder'
import { generate } from '../../../src/worker/infer/generate'
import { disposeParams, loadCheckpoint, toParams } from '../../../src/worker/infer/load'
import { setupTf } from '../../helpers/tfjs'
import { Store } from '../../../src/store'
import { readSafetensors, toFloat32 } from '../../../src/worker/export/safetensors'
import { sums } from '../../helpers/conversations'
import { useTempDir } from '../../helpers/temp'
import { frugalOutput as frugal } from '../../helpers/trained-project'

type Line = { type: string; loss?: number; runId?: string }
const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line)

/** Every tensor of a safetensors file as float32, by name, with its shape. */
function tensorsOf(path: string) {
  const { tensors } = readSafetensors(path)
  return new Map([...tensors].map(([name, t]) => [name, { shape: t.shape, values: toFloat32(t) }]))
}

/** Every question of the datasets' form. */
const questions = Array.from(
  { length: 63 },
  (_, i) => `What is ${1 + Math.floor(i / 7)}+${1 + (i % 7)}?`,
)

/** A run's greedy chat replies to the questions, in this process. */
async function answers(db: string, runId: string, questions: string[]): Promise<string[]> {
  const store = Store.open(db)
  const model = loadCheckpoint(store, runId)
  store.close()
  const params = toParams(model.config, model.weights)
  const decoder = new Decoder(model.config, params)
  const options = generateOptionsSchema.parse({ chat: true, temperature: 0, maxTokens: 12 })
  try {
    const out: string[] = []
    for (const q of questions)
      out.push(
        (
          await generate(
            decoder,
            model.tokenizer,
            q,
            options,
            undefined,
            undefined,
            model.chatTemplate,
          )
        ).text,
      )
    return out
  } finally {
    decoder.dispose()
    disposeParams(params)
  }
}

beforeAll(async () => {
  await setupTf()
})

describe('LoRA through the CLI', () => {
  const tmp = useTempDir()

  it('adapts a fine-tuned model, saves the adapters alone, and exports them merged and in PEFT layout', async () => {
    const dir = tmp()
    const home = join(dir, 'home')
    const db = join(dir, 'p.frugal')
    frugal(['project', 'create', db], home)
    // The base answers "What is 2+3?" bare and "2+3?" in a sentence; the adapters teach it
    // to answer "What is 2+3?" in a sentence too.
    const sentence = (a: number, b: number) => `it is ${a + b}`
    const datasets = {
      sums: [...sums(), ...sums(sentence, (a, b) => `${a}+${b}?`)],
      sentences: sums(sentence),
    }
    for (const [name, records] of Object.entries(datasets)) {
      const file = join(dir, `${name}.jsonl`)
      writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n')
      frugal(['data', 'import', file, '--dataset', name, '--db', db], home)
    }
    const train = (name: string, spec: object) => {
      const file = join(dir, `${name}.json`)
      writeFileSync(file, JSON.stringify({ name, ...spec }))
      return frugal(['train', '--config', file, '--db', db, '--json'], home)
    }
    const common = { batchSize: 8, warmupSteps: 5, evalEvery: 0, checkpointEvery: 0 }
    train('base', {
      data: { dataset: 'sums', tokenizer: { kind: 'char' } },
      model: { contextLength: 48, layers: 2, heads: 2, width: 48 },
      train: { kind: 'sft', steps: 100, learningRate: 3e-3, threads: 2, ...common },
    })
    const lora = { rank: 8, alpha: 16, targets: ['attention', 'mlp'] }
    const adapted = train('sentences', {
      data: { dataset: 'sentences', tokenizer: 'sums-char' },
      init: { run: 'base' },
      train: { kind: 'sft', steps: 120, learningRate: 1e-2, lora, ...common },
    })
    const steps = lines(adapted.stdout)
    const losses = steps.filter((s) => s.type === 'step').map((s) => s.loss!)
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.7)
    expect(adapted.stderr).toMatch(/one data-parallel worker/)
    const runId = steps.at(-1)!.runId!

    // The checkpoint holds the adapters (and their moments) alone: far smaller than the base's.
    const store = Store.open(db)
    const baseRun = store.runs.list().find((r) => r.name === 'base')!
    const baseBytes = store.checkpoints.latest(baseRun.id)!.rawBytes
    const adapterCheckpoint = store.checkpoints.latest(runId)!
    expect(adapterCheckpoint.rawBytes).toBeLessThan(baseBytes / 2)
    store.close()

    // Chat: the base mostly answers bare, the adapted model (its adapters folded into the
    // weights) in a sentence.
    const sentences = async (run: string) => {
      const replies = await answers(db, run, questions)
      return replies.filter((r) => /^it is \d+$/.test(r.trim())).length / replies.length
    }
    const before = await sentences(baseRun.id)
    const after = await sentences(runId)
    expect(before).toBeLessThan(0.5)
    expect(after).toBeGreaterThan(0.9)

    // Exports: the base, the adapted model merged, and the adapters alone (PEFT).
    // Each export is a new folder in an existing one (the parent must exist, in the app as
    // in the CLI: a mistyped path is refused rather than created).
    mkdirSync(join(dir, 'out'))
    const out = (name: string) => join(dir, 'out', name)
    frugal(['export', '--run', 'base', '--out', out('base'), '--db', db], home)
    frugal(['export', '--run', runId, '--out', out('merged'), '--db', db], home)
    frugal(['export', '--run', runId, '--format', 'peft', '--out', out('peft'), '--db', db], home)
    const base = tensorsOf(join(out('base'), 'model.safetensors'))
    const merged = tensorsOf(join(out('merged'), 'model.safetensors'))
    const peft = tensorsOf(join(out('peft'), 'adapter_model.safetensors'))
    const config = JSON.parse(readFileSync(join(out('peft'), 'adapter_config.json'), 'utf8')) as {
      r: number
      lora_alpha: number
      target_modules: string[]
      peft_type: string
    }
    expect(config).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16 })
    // Two layers, q k v o and gate up down each.
    expect(config.target_modules).toHaveLength(14)
    expect(config.target_modules).toContain('model.layers.1.self_attn.o_proj')
    // PEFT's merge, W + (α/r)·B·A in PyTorch's [out, in], gives exactly the merged export.
    const scale = config.lora_alpha / config.r
    for (const [name, w] of base) {
      const m = merged.get(name)!
      const module = name.replace(/\.weight$/, '')
      const A = peft.get(`base_model.model.${module}.lora_A.weight`)
      const B = peft.get(`base_model.model.${module}.lora_B.weight`)
      expect(config.target_modules.includes(module)).toBe(A !== undefined)
      if (!A || !B) {
        expect(m.values).toEqual(w.values)
        continue
      }
      const [outDim, inDim] = w.shape
      const r = A.shape[0]
      expect(A.shape).toEqual([r, inDim])
      expect(B.shape).toEqual([outDim, r])
      let worst = 0
      let moved = 0
      for (let o = 0; o < outDim; o++)
        for (let i = 0; i < inDim; i++) {
          let update = 0
          for (let k = 0; k < r; k++) update += B.values[o * r + k] * A.values[k * inDim + i]
          const want = w.values[o * inDim + i] + scale * update
          worst = Math.max(worst, Math.abs(m.values[o * inDim + i] - want))
          moved = Math.max(moved, Math.abs(scale * update))
        }
      expect(worst).toBeLessThan(1e-5)
      expect(moved).toBeGreaterThan(1e-3)
    }

    // A run that trained every weight has no adapters to export alone: it says so.
    expect(() =>
      frugal(['export', '--run', 'base', '--format', 'peft', '--out', out('x'), '--db', db], home),
    ).toThrow(/trained every weight, so it has no adapters/)
  })
})
