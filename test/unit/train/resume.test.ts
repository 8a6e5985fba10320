import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { useTempDir } from '../../helpers/temp'
import { addDocuments } from '../../helpers/documents'
import { testBackend } from '../../helpers/tfjs'

const tempDir = useTempDir()
const cli = ['--import', 'tsx', 'src/cli/index.ts']

function frugal(args: string[], home: string) {
  const r = spawnSync(process.execPath, [...cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FRUGAL_HOME: home },
  })
  if (r.status !== 0) throw new Error(`frugal ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

/** Per-step losses from `frugal train --json` output. */
const lossesOf = (jsonl: string) =>
  jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; step: number; loss: number })
    .filter((l) => l.type === 'step')

/**
 * Bit for bit on wasm and cpu, and on webgpu as CI runs it (llvmpipe). On a real GPU the
 * sums tfjs-backend-webgpu makes with atomic adds (the gradients of row gathers: the
 * embedding and MoE dispatch) depend on the order threads finish, so two runs, resumed or
 * not, agree to float rounding rather than bit for bit (docs/TRAINING.md).
 */
describe('exact resume after kill -9', () => {
  it('continues with the very losses the uninterrupted run had, step for step', async () => {
    const dir = tempDir()
    const home = join(dir, 'home')
    const db = join(dir, 'p.frugal')
    const store = Store.create(db)
    const id = store.datasets.create('verses', new Date().toISOString())
    const verse = 'Shall I compare thee to a summer day? Thou art more lovely and more temperate. '
    addDocuments(store, id, [{ source: 'sonnet.txt', text: verse.repeat(300) }])
    store.close()
    const config = join(dir, 'run.json')
    writeFileSync(
      config,
      JSON.stringify({
        name: 'resume-check',
        data: { dataset: 'verses', tokenizer: { kind: 'char' } },
        model: {
          contextLength: 16,
          layers: 2,
          heads: 2,
          width: 16,
          moe: { routedExperts: 4, topK: 2, firstDenseLayers: 1, balance: 'aux-free' },
        },
        train: {
          steps: 24,
          batchSize: 4,
          warmupSteps: 4,
          evalEvery: 0,
          checkpointEvery: 8,
          dropPath: 0.1,
          threads: 2,
        },
      }),
    )

    const whole = lossesOf(frugal(['train', '--config', config, '--db', db, '--json'], home))
    expect(whole).toHaveLength(24)

    // The same run, killed hard after its step-8 checkpoint is on disk.
    const child = spawn(
      process.execPath,
      [...cli, 'train', '--config', config, '--db', db, '--json'],
      {
        env: { ...process.env, FRUGAL_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const stderr: string[] = []
    createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l))
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = JSON.parse(line) as { type: string; step: number }
        if (
          m.type === 'step' &&
          m.step >= 13 &&
          stderr.some((l) => l.includes('Checkpoint at step 8'))
        ) {
          child.kill('SIGKILL')
          resolve()
        }
      })
    })
    await new Promise((r) => child.once('exit', r))

    const check = Store.open(db)
    const killed =
      check.runs.list().find((r) => r.id !== check.runs.list().at(-1)!.id) ?? check.runs.list()[0]
    expect(killed.status).toBe('running') // it died without a word
    check.close()

    const resumed = frugal(['train', '--resume', killed.id, '--db', db, '--json'], home)
    const summary = JSON.parse(resumed.trim().split('\n').at(-1)!) as {
      status: string
      step: number
      backend: string
    }
    expect(summary).toMatchObject({ status: 'completed', step: 24 })
    // The CLI ran on the backend under test (npm run test:webgpu sets FRUGAL_BACKEND too).
    expect(summary.backend.split(' ')[0]).toBe(testBackend)

    const after = Store.open(db)
    const series = after.runs.metric(killed.id, 'loss')
    after.close()
    expect(series.map((p) => p.step)).toEqual(whole.map((p) => p.step))
    expect(series.map((p) => p.value)).toEqual(whole.map((p) => p.loss))
  })
})
