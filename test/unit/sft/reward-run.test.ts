import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { useTempDir } from '../../helpers/temp'
import { sums } from '../../helpers/conversations'
import { frugalOutput as frugal } from '../../helpers/trained-project'

/** The held-out accuracy and mean scores a reward run logs at an evaluation, in order. */
function evaluations(log: string): { accuracy: number; chosen: number; rejected: number }[] {
  return [
    ...log.matchAll(
      /the reward model scores the chosen reply higher in (\d+)% of the held-out pairs \(mean scores (-?[\d.]+) chosen, (-?[\d.]+) rejected\)/g,
    ),
  ].map((m) => ({ accuracy: Number(m[1]), chosen: Number(m[2]), rejected: Number(m[3]) }))
}

describe('reward models through the CLI', () => {
  const tmp = useTempDir()

  it('learns to score the preferred reply higher, from pairs and from 1-5 ratings', () => {
    const dir = tmp()
    const home = join(dir, 'home')
    const db = join(dir, 'p.frugal')
    frugal(['project', 'create', db], home)
    const file = join(dir, 'sums.jsonl')
    writeFileSync(
      file,
      sums()
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    )
    frugal(['data', 'import', file, '--dataset', 'sums', '--db', db], home)
    const base = join(dir, 'sft.json')
    writeFileSync(
      base,
      JSON.stringify({
        name: 'sums',
        data: { dataset: 'sums', tokenizer: { kind: 'char' } },
        model: { contextLength: 48, layers: 2, heads: 2, width: 48 },
        train: { kind: 'sft', steps: 40, batchSize: 8, learningRate: 3e-3, warmupSteps: 5 },
      }),
    )
    frugal(['train', '--config', base, '--db', db], home)

    // Pairs that prefer a sentence to the bare number the base model gives.
    const pairs = join(dir, 'prefs.jsonl')
    writeFileSync(
      pairs,
      Array.from({ length: 40 }, (_, i) => {
        const [a, b] = [1 + (i % 9), 1 + Math.floor(i / 9)]
        return JSON.stringify({
          prompt: [{ role: 'user', content: `What is ${a}+${b}?` }],
          chosen: [{ role: 'assistant', content: `It is ${a + b}.` }],
          rejected: [{ role: 'assistant', content: String(a + b) }],
        })
      }).join('\n'),
    )
    frugal(['data', 'import', pairs, '--dataset', 'prefs', '--db', db], home)
    const runFile = (name: string, data: object) => {
      const path = join(dir, `${name}.json`)
      writeFileSync(
        path,
        JSON.stringify({
          name,
          data,
          init: { run: 'sums' },
          train: {
            kind: 'reward',
            steps: 60,
            batchSize: 8,
            learningRate: 2e-3,
            warmupSteps: 5,
            evalEvery: 60,
            checkpointEvery: 60,
          },
        }),
      )
      return path
    }
    const fromPairs = frugal(
      [
        'train',
        '--config',
        runFile('rm', { dataset: 'prefs', tokenizer: 'sums-char' }),
        '--db',
        db,
      ],
      home,
    ).stderr
    const [before, after] = evaluations(fromPairs)
    expect(before, fromPairs).toBeDefined()
    expect(after, fromPairs).toBeDefined()
    // The new head starts near zero; trained, it separates the two kinds of reply widely.
    expect(Math.abs(before.chosen - before.rejected)).toBeLessThan(0.5)
    expect(after.accuracy).toBeGreaterThanOrEqual(90)
    expect(after.chosen - after.rejected).toBeGreaterThan(2)

    // The trained model ranks replies to a question it never saw in a pair (8+6): the
    // sentence first; a run that is not a reward model is refused, saying so.
    const score = (run: string) =>
      JSON.parse(
        frugal(
          [
            'score',
            '--run',
            run,
            '--prompt',
            'What is 8+6?',
            '--chat',
            '--reply',
            '14',
            'It is 14.',
            '--db',
            db,
            '--json',
          ],
          home,
        ).stdout,
      ) as { ranked: { reply: string; score: number }[] }
    const ranked = score('rm').ranked
    expect(ranked.map((r) => r.reply)).toEqual(['It is 14.', '14'])
    expect(ranked[0].score - ranked[1].score).toBeGreaterThan(1)
    expect(() => score('sums')).toThrow(
      /Run "sums" is not a reward model: train one with the kind "A reward model"/,
    )

    // GRPO with the reward model as its rule: replies to held-out sums it scores higher.
    const rlFile = (name: string, run: string) => {
      const path = join(dir, `${name}.json`)
      writeFileSync(
        path,
        JSON.stringify({
          name,
          data: { dataset: 'sums', tokenizer: 'sums-char' },
          init: { run: 'sums' },
          train: {
            kind: 'grpo',
            steps: 16,
            batchSize: 8,
            learningRate: 1e-3,
            warmupSteps: 2,
            evalEvery: 16,
            evalBatches: 2,
            grpo: { group: 4, maxNewTokens: 10, rewards: [{ kind: 'reward-model', run }] },
          },
        }),
      )
      return path
    }
    const rl = frugal(['train', '--config', rlFile('rl', 'rm'), '--db', db], home).stderr
    expect(rl).toMatch(/rewarded by: reward model rm-[0-9a-f]+ ×1\./)
    const heldOut = [
      ...rl.matchAll(/held-out prompts, 4 replies each sampled: mean reward (-?[\d.]+)/g),
    ].map((m) => Number(m[1]))
    expect(heldOut, rl).toHaveLength(2)
    expect(heldOut[1], rl).toBeGreaterThan(heldOut[0])
    expect(() => frugal(['train', '--config', rlFile('rl-bad', 'sums'), '--db', db], home)).toThrow(
      /train\.grpo\.rewards\.0\.run: "sums" is not a reward model/,
    )

    // Ratings alone: three rated outputs per prompt, two rated alike (no pair between them),
    // so each prompt gives two pairs, the sentence over each bare answer.
    const store = Store.open(db)
    const now = new Date().toISOString()
    const source = { label: 'sums', settings: { chat: true } }
    for (let i = 0; i < 24; i++) {
      const [a, b] = [1 + (i % 8), 1 + Math.floor(i / 8)]
      const prompt = `What is ${a}+${b}?`
      store.ratings.rate({ prompt, output: `It is ${a + b}.`, source, score: 5 }, now)
      store.ratings.rate({ prompt, output: String(a + b), source, score: 2 }, now)
      store.ratings.rate({ prompt, output: `${a + b}.`, source, score: 2 }, now)
    }
    store.close()
    const fromRatings = frugal(
      ['train', '--config', runFile('rm-ratings', { tokenizer: 'sums-char' }), '--db', db],
      home,
    ).stderr
    expect(fromRatings).toMatch(
      /Learning from \d+ preference pairs \(48 of them from 1-5 ratings of one prompt's outputs\), \d+ held out/,
    )
    const trained = evaluations(fromRatings).at(-1)!
    expect(trained.accuracy, fromRatings).toBeGreaterThanOrEqual(90)
    expect(trained.chosen - trained.rejected).toBeGreaterThan(2)

    // What a reward model cannot be: a LoRA run (it trains its new head and every weight).
    const lora = join(dir, 'rm-lora.json')
    writeFileSync(
      lora,
      JSON.stringify({
        name: 'rm-lora',
        data: { dataset: 'prefs', tokenizer: 'sums-char' },
        init: { run: 'sums' },
        train: { kind: 'reward', steps: 2, lora: {} },
      }),
    )
    expect(() => frugal(['train', '--config', lora, '--db', db], home)).toThrow(
      /train\.lora: a reward model trains every weight/,
    )
  }, 240_000)
})
