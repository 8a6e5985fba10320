import { expect, test } from '@playwright/test'
import { frugal } from './fixtures'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let dir: string
test.beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'frugal-train-'))))
test.afterEach(() => rmSync(dir, { recursive: true, force: true }))

test('a dense and a MoE model train from the CLI on an imported, cleaned dataset, and their loss falls', () => {
  test.setTimeout(240_000)
  const home = join(dir, 'home')
  const db = join(dir, 'p.frugal')
  frugal(['project', 'create', db], home)
  frugal(
    [
      'data',
      'import',
      'test/fixtures/data/corpus',
      '--dataset',
      'corpus',
      '--text-field',
      'text',
      '--db',
      db,
      '--json',
    ],
    home,
  )
  const cleaned = JSON.parse(
    frugal(['data', 'clean', '--dataset', 'corpus', '--db', db, '--json'], home),
  ) as { kept: number }
  expect(cleaned.kept).toBeGreaterThan(0)

  const runs = {
    'tiny-dense': {
      tokenizer: { kind: 'char' },
      model: { contextLength: 32, layers: 2, heads: 2, width: 32 },
    },
    'tiny-moe': {
      tokenizer: { kind: 'bpe', vocabSize: 320 },
      model: {
        contextLength: 32,
        layers: 2,
        heads: 2,
        width: 32,
        moe: { routedExperts: 4, topK: 2, firstDenseLayers: 1 },
      },
    },
  }
  for (const [name, spec] of Object.entries(runs)) {
    const config = join(dir, `${name}.json`)
    writeFileSync(
      config,
      JSON.stringify({
        name,
        data: { dataset: 'corpus', tokenizer: spec.tokenizer },
        model: spec.model,
        train: {
          steps: 40,
          batchSize: 8,
          learningRate: 0.003,
          warmupSteps: 5,
          evalEvery: 40,
          evalBatches: 8,
          checkpointEvery: 20,
        },
      }),
    )
    const lines = frugal(['train', '--config', config, '--db', db, '--json'], home)
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string
            step?: number
            loss?: number
            status?: string
            valLoss?: number
          },
      )
    const steps = lines.filter((l) => l.type === 'step')
    const summary = lines.at(-1)!
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(summary).toMatchObject({ type: 'summary', status: 'completed', step: 40 })
    const first = steps.slice(0, 5).reduce((a, s) => a + s.loss!, 0) / 5
    const last = steps.slice(-5).reduce((a, s) => a + s.loss!, 0) / 5
    expect(last, `${name}: mean loss of the last 5 steps vs the first 5`).toBeLessThan(first * 0.8)
    expect(summary.valLoss).toBeLessThan(first)
  }

  // What the trained checkpoints are for: generate, measure, export.
  const generated = frugal(
    [
      'generate',
      '--run',
      'tiny-moe',
      '--prompt',
      'The',
      '--max-tokens',
      '12',
      '--json',
      '--db',
      db,
    ],
    home,
  )
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; tokens?: number; text?: string })
  expect(generated.filter((l) => l.type === 'token').length).toBeLessThanOrEqual(12)
  expect(generated.at(-1)).toMatchObject({ type: 'summary' })
  const ppl = JSON.parse(
    frugal(['eval', '--run', 'tiny-dense', '--kind', 'perplexity', '--json', '--db', db], home),
  ) as { perplexity: number; loss: number; tokens: number }
  expect(ppl.tokens).toBeGreaterThan(0)
  expect(ppl.perplexity).toBeCloseTo(Math.exp(ppl.loss), 3)
  // MMLU-layout files: a test and a dev file per subject.
  const mmlu = join(dir, 'mmlu')
  mkdirSync(join(mmlu, 'test'), { recursive: true })
  mkdirSync(join(mmlu, 'dev'), { recursive: true })
  writeFileSync(
    join(mmlu, 'test', 'hiking_test.csv'),
    'Where does the path start?,At the bridge,At the church,At the mill,At the farm,A\n' +
      'How long is the walk?,Two hours,Ten days,A minute,A year,A\n',
  )
  writeFileSync(
    join(mmlu, 'dev', 'hiking_dev.csv'),
    'What do you need?,Boots,A boat,A car,A plane,A\n',
  )
  const mc = JSON.parse(
    frugal(
      [
        'eval',
        '--run',
        'tiny-dense',
        '--kind',
        'mc',
        '--data',
        mmlu,
        '--shots',
        '1',
        '--json',
        '--db',
        db,
      ],
      home,
    ),
  ) as { overall: { questions: number; chance: number }; subjects: { name: string }[] }
  expect(mc.overall).toMatchObject({ questions: 2, chance: 0.25 })
  expect(mc.subjects.map((s) => s.name)).toEqual(['hiking'])
  const exported = JSON.parse(
    frugal(
      [
        'export',
        '--run',
        'tiny-moe',
        '--out',
        join(dir, 'hf'),
        '--dtype',
        'bf16',
        '--json',
        '--db',
        db,
      ],
      home,
    ),
  ) as { files: string[] }
  expect(exported.files).toContain('model.safetensors')
  expect(exported.files).toContain('config.json')
  // The dense run as one GGUF file for llama.cpp and Ollama, in GGUF's own precision names.
  const gguf = JSON.parse(
    frugal(
      [
        'export',
        '--run',
        'tiny-dense',
        '--format',
        'gguf',
        '--out',
        join(dir, 'tiny.gguf'),
        '--dtype',
        'f32',
        '--json',
        '--db',
        db,
      ],
      home,
    ),
  ) as { format: string; files: string[]; bytes: number }
  expect(gguf).toMatchObject({ format: 'gguf', files: ['tiny.gguf'] })
  expect(readFileSync(join(dir, 'tiny.gguf')).subarray(0, 4).toString('latin1')).toBe('GGUF')
  expect(statSync(join(dir, 'tiny.gguf')).size).toBe(gguf.bytes)
})
