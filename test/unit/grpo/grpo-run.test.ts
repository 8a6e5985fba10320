import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '../../helpers/temp'
import { frugalOutput as frugal } from '../../helpers/trained-project'

/** What a GRPO run logs at each evaluation of its held-out prompts, in order. */
function evaluations(log: string): { step: string; sampled: number; greedy: number }[] {
  return [
    ...log.matchAll(
      /(Before training|Step \d+): (\d+) held-out prompts, \d+ replies each sampled: (\d+)% right \(pass@1[^)]*\); greedy: (\d+)% right/g,
    ),
  ].map((m) => ({ step: m[1], sampled: Number(m[3]), greedy: Number(m[4]) }))
}

describe('GRPO through the CLI', () => {
  const tmp = useTempDir()

  it("raises the shipped arithmetic task's held-out accuracy with a verifiable reward", () => {
    const dir = tmp()
    const home = join(dir, 'home')
    const db = join(dir, 'p.frugal')
    frugal(['project', 'create', db], home)
    // The toy task: every sum of two digits, "What is 3+4?" → "7".
    const task = join(dir, 'sums.jsonl')
    frugal(['data', 'toy-task', 'arithmetic', '--out', task, '--count', '100', '--max', '9'], home)
    const clean = readFileSync(task, 'utf8').trim().split('\n')
    expect(clean).toHaveLength(100)
    // The base learns from a noisy copy, three answers in ten off by one (as data scraped or
    // written by hand can be); GRPO checks replies against the true answers.
    const noisy = join(dir, 'noisy.jsonl')
    writeFileSync(
      noisy,
      clean
        .map((line, i) => {
          const r = JSON.parse(line) as { prompt: string; response: string }
          return JSON.stringify(i % 10 < 3 ? { ...r, response: String(Number(r.response) + 1) } : r)
        })
        .join('\n'),
    )
    frugal(['data', 'import', task, '--dataset', 'sums', '--db', db], home)
    frugal(['data', 'import', noisy, '--dataset', 'noisy', '--db', db], home)
    const config = (name: string, body: object) => {
      const path = join(dir, `${name}.json`)
      writeFileSync(path, JSON.stringify({ name, ...body }))
      return path
    }
    frugal(
      [
        'train',
        '--config',
        config('base', {
          data: { dataset: 'noisy', tokenizer: { kind: 'char' } },
          model: { contextLength: 48, layers: 2, heads: 2, width: 64 },
          train: { kind: 'sft', steps: 300, batchSize: 16, learningRate: 3e-3, warmupSteps: 10 },
        }),
        '--db',
        db,
      ],
      home,
    )
    const grpo = (name: string, data: object, train: object) =>
      frugal(
        [
          'train',
          '--config',
          config(name, {
            data: { tokenizer: 'noisy-char', ...data },
            init: { run: 'base' },
            train: { kind: 'grpo', ...train },
          }),
          '--db',
          db,
        ],
        home,
      ).stderr
    // 30% of the sums held out: GRPO never samples replies to them.
    const log = grpo(
      'rl',
      { dataset: 'sums', valFraction: 0.3 },
      {
        steps: 40,
        batchSize: 16,
        learningRate: 5e-4,
        warmupSteps: 3,
        evalEvery: 40,
        evalBatches: 8,
        grpo: { group: 8, maxNewTokens: 4, rewards: [{ kind: 'exact' }] },
      },
    )
    expect(log).toMatch(
      /Reinforcing on \d+ prompts \(\d+ held out for validation\), 8 replies sampled for each, rewarded by: exact answer ×1\./,
    )
    const [before, after] = evaluations(log)
    expect(before, log).toBeDefined()
    expect(after, log).toBeDefined()
    expect(after.step).toBe('Step 40')
    // Sums it never sampled a reply to, 8 replies each: more of them right (here 39% → 45%
    // of 272), and more greedy answers too (59% → 69% of 34).
    expect(after.sampled - before.sampled, log).toBeGreaterThanOrEqual(4)
    expect(after.greedy - before.greedy, log).toBeGreaterThanOrEqual(6)

    // A rule that cannot judge a reply is reported with it, scored 0, and the run goes on.
    const words = join(dir, 'words.jsonl')
    writeFileSync(
      words,
      ['red', 'blue', 'green', 'gold']
        .map((c) => JSON.stringify({ prompt: `Name the colour ${c}`, response: c }))
        .join('\n'),
    )
    frugal(['data', 'import', words, '--dataset', 'words', '--db', db], home)
    const failing = grpo(
      'rl-words',
      { dataset: 'words' },
      {
        steps: 2,
        batchSize: 2,
        evalBatches: 1,
        grpo: { group: 2, maxNewTokens: 3, rewards: [{ kind: 'numeric' }] },
      },
    )
    expect(failing).toMatch(
      /The reward rule "numeric answer \(±0\)" failed on the reply ".*" to "Name the colour \w+": the reference answer "\w+" has no number to compare\. It counts 0/,
    )
    expect(failing).toMatch(/Checkpoint at step 2 /)

    // What GRPO refuses before it starts: a pattern that does not compile, and no model to start from.
    expect(() =>
      grpo(
        'rl-bad',
        { dataset: 'sums' },
        { grpo: { rewards: [{ kind: 'regex', pattern: '([0-9]' }] } },
      ),
    ).toThrow(/train\.grpo\.rewards\.0\.pattern: /)
    expect(() =>
      frugal(
        [
          'train',
          '--config',
          config('rl-scratch', {
            data: { dataset: 'sums', tokenizer: 'noisy-char' },
            model: { contextLength: 48, layers: 1, heads: 2, width: 16 },
            train: { kind: 'grpo', steps: 1 },
          }),
          '--db',
          db,
        ],
        home,
      ),
    ).toThrow(/GRPO reinforces what a model already gets right/)
  }, 300_000)
})
