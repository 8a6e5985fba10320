import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Store } from '../../src/store'
import { addDocuments } from './documents'

const cli = ['--import', 'tsx', 'src/cli/index.ts']

/** Run the CLI from source with `home` as its settings folder; its stdout. */
export function frugal(args: string[], home: string): string {
  return frugalOutput(args, home).stdout
}

/** The same, with what it printed on stderr (progress and the job's log). */
export function frugalOutput(args: string[], home: string): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FRUGAL_HOME: home },
  })
  if (r.status !== 0) throw new Error(`frugal ${args.join(' ')} failed: ${r.stderr}`)
  return { stdout: r.stdout, stderr: r.stderr }
}

/** `frugal generate --chat` of a run, greedy and short: its reply and why it stopped. */
export function chatReply(
  db: string,
  home: string,
  runId: string,
  prompt: string,
): { text: string; stop: string } {
  const lines = frugal(
    [
      'generate',
      '--run',
      runId,
      '--prompt',
      prompt,
      '--chat',
      '--temperature',
      '0',
      '--max-tokens',
      '12',
      '--db',
      db,
      '--json',
    ],
    home,
  )
    .trim()
    .split('\n')
  return JSON.parse(lines.at(-1)!) as { text: string; stop: string }
}

/**
 * `dir/p.frugal` with a short MoE run (char tokenizer, 3 layers, 4 experts) trained
 * through the CLI on a few verses, as a user would have it.
 */
export function trainedProject(
  dir: string,
  name = 'export-check',
  steps = 12,
): { db: string; runId: string } {
  const home = join(dir, 'home')
  const db = join(dir, 'p.frugal')
  const store = Store.create(db)
  const id = store.datasets.create('verses', new Date().toISOString())
  const verse = 'Shall I compare thee to a summer day? Thou art more lovely and more temperate. '
  addDocuments(
    store,
    id,
    Array.from({ length: 40 }, (_, i) => ({ source: `v${i}`, text: verse.repeat(3 + (i % 4)) })),
  )
  store.close()
  const config = join(dir, 'run.json')
  writeFileSync(
    config,
    JSON.stringify({
      name,
      data: { dataset: 'verses', tokenizer: { kind: 'char' } },
      model: {
        contextLength: 32,
        layers: 3,
        heads: 2,
        width: 16,
        moe: {
          routedExperts: 4,
          sharedExperts: 1,
          topK: 2,
          firstDenseLayers: 1,
          balance: 'aux-free',
          affinity: 'sigmoid',
        },
      },
      train: {
        steps,
        batchSize: 4,
        warmupSteps: 2,
        evalEvery: 6,
        checkpointEvery: 12,
        threads: 1,
      },
    }),
  )
  const out = frugal(['train', '--config', config, '--db', db, '--json'], home)
  const summary = JSON.parse(out.trim().split('\n').at(-1)!) as { runId: string }
  return { db, runId: summary.runId }
}

/**
 * `dir/NAME.json`: a 1-layer run on the verses of trainedProject, with these training
 * settings (over short defaults) and any other run.json fields (teacher, reference).
 */
export function versesRunFile(
  dir: string,
  name: string,
  train: Record<string, unknown>,
  extra: object = {},
): string {
  const path = join(dir, `${name}.json`)
  writeFileSync(
    path,
    JSON.stringify({
      name,
      data: { dataset: 'verses', tokenizer: { kind: 'char' } },
      model: { contextLength: 32, layers: 1, heads: 2, width: 16 },
      train: { steps: 8, batchSize: 4, warmupSteps: 2, evalEvery: 0, threads: 1, ...train },
      ...extra,
    }),
  )
  return path
}
