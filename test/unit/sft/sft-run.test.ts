import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { useTempDir } from '../../helpers/temp'
import { sums } from '../../helpers/conversations'
import { chatReply, frugalOutput as frugal } from '../../helpers/trained-project'

describe('supervised fine-tuning through the CLI', () => {
  const tmp = useTempDir()

  it('imports conversations, learns the replies only, chats until the reply ends, then learns preferences (DPO, SimPO)', () => {
    const dir = tmp()
    const home = join(dir, 'home')
    const db = join(dir, 'p.frugal')
    frugal(['project', 'create', db], home)
    const lines = [
      ...sums().map((r) => JSON.stringify(r)),
      // Bad input: counted and listed with the line, the rest imported.
      JSON.stringify({ messages: [{ role: 'user', content: 'No answer here.' }] }),
      // Longer than the model's context: left out of training, with its line.
      JSON.stringify({ prompt: 'What is '.repeat(20), response: 'Too long.' }),
    ]
    const file = join(dir, 'sums.jsonl')
    writeFileSync(file, lines.join('\n') + '\n')
    const imported = JSON.parse(
      frugal(['data', 'import', file, '--dataset', 'sums', '--db', db, '--json'], home).stdout,
    ) as { imported: number; skipped: number; errors: { line: number | null; message: string }[] }
    expect(imported.imported).toBe(64)
    expect(imported.skipped).toBe(1)
    expect(imported.errors[0]).toMatchObject({
      line: 64,
      message: 'No assistant turn to learn from.',
    })

    const config = join(dir, 'sft.json')
    writeFileSync(
      config,
      JSON.stringify({
        name: 'sums',
        data: { dataset: 'sums', tokenizer: { kind: 'char' } },
        model: { contextLength: 48, layers: 2, heads: 2, width: 48 },
        train: {
          kind: 'sft',
          steps: 160,
          batchSize: 8,
          learningRate: 3e-3,
          warmupSteps: 10,
          evalEvery: 80,
          checkpointEvery: 160,
          threads: 2,
        },
      }),
    )
    const run = frugal(['train', '--config', config, '--db', db, '--json'], home)
    expect(run.stderr).toMatch(
      /Fine-tuning on \d+ conversations \(\d+ held out for validation\), [\d,]+ assistant tokens to learn, packed into \d+ sequences of 48/,
    )
    expect(run.stderr).toMatch(/Left out 1 document that cannot be trained on/)
    expect(run.stderr).toMatch(
      new RegExp(`sums\\.jsonl:${lines.length}: \\d+ tokens: longer than the run's sequences`),
    )
    const steps = run.stdout
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { type: string; loss?: number; val_loss?: number; runId?: string },
      )
    const losses = steps.filter((s) => s.type === 'step').map((s) => s.loss!)
    // The loss is over the replies alone (a digit or two and the end token): it falls far.
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.3)
    const summary = steps.at(-1)!
    expect(summary.type).toBe('summary')

    // Chat: the question through the template; the reply ends by itself at the end token.
    const chat = chatReply(db, home, summary.runId!, 'What is 4+3?')
    expect(chat.stop).toBe('eos')
    expect(chat.text.trim()).toMatch(/^\d+$/)

    // The export carries the template the model was fine-tuned with.
    const folder = join(dir, 'export')
    frugal(['export', '--run', summary.runId!, '--out', folder, '--db', db], home)
    const config2 = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')) as {
      chat_template?: string
    }
    expect(config2.chat_template).toMatch(/Assistant:/)

    // Preference training from the fine-tuned model: pairs that prefer a sentence to the bare
    // number, which the model was taught to give (one bad pair reported at import).
    const pairs = join(dir, 'prefs.jsonl')
    writeFileSync(
      pairs,
      [
        ...Array.from({ length: 40 }, (_, i) => {
          const [a, b] = [1 + (i % 9), 1 + Math.floor(i / 9)]
          return {
            prompt: [{ role: 'user', content: `What is ${a}+${b}?` }],
            chosen: [{ role: 'assistant', content: `It is ${a + b}.` }],
            rejected: [{ role: 'assistant', content: String(a + b) }],
          }
        }),
        { prompt: 'What is 1+1?', chosen: '2', rejected: '2' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    )
    const prefs = JSON.parse(
      frugal(['data', 'import', pairs, '--dataset', 'prefs', '--db', db, '--json'], home).stdout,
    ) as { imported: number; errors: { line: number | null; message: string }[] }
    expect(prefs.imported).toBe(40)
    // Cleaning rules are for prose: a dataset of pairs is refused, saying why.
    expect(() => frugal(['data', 'clean', '--dataset', 'prefs', '--db', db], home)).toThrow(
      /holds conversations or preference pairs for fine-tuning/,
    )
    expect(prefs.errors).toHaveLength(1)
    expect(prefs.errors[0]).toMatchObject({
      line: 41,
      message: '"chosen" and "rejected" are the same.',
    })
    for (const kind of ['dpo', 'simpo']) {
      const file = join(dir, `${kind}.json`)
      writeFileSync(
        file,
        JSON.stringify({
          name: kind,
          data: { dataset: 'prefs', tokenizer: 'sums-char' },
          init: { run: 'sums' },
          train: {
            kind,
            steps: 120,
            batchSize: 8,
            learningRate: 1e-3,
            warmupSteps: 5,
            evalEvery: 120,
            checkpointEvery: 120,
            ...(kind === 'dpo' ? { preferenceBeta: 0.01 } : {}),
          },
        }),
      )
      const trained = frugal(['train', '--config', file, '--db', db], home).stderr
      // Held-out pairs: the model it starts from finds the bare number likelier; after
      // training it finds the preferred sentence likelier.
      const before =
        /Before training, the model finds the chosen reply likelier \(per token\) in (\d+)% of the held-out pairs/.exec(
          trained,
        )
      const after =
        /Step 120: held-out pairs ordered right by the reward (\d+)%, the chosen reply likelier \(per token\) in (\d+)%/.exec(
          trained,
        )
      expect(before, trained).not.toBeNull()
      expect(after, trained).not.toBeNull()
      expect(Number(before![1])).toBeLessThanOrEqual(20)
      expect(Number(after![1])).toBeGreaterThanOrEqual(80)
      expect(Number(after![2])).toBeGreaterThanOrEqual(80)
      if (kind === 'dpo')
        expect(trained).toMatch(
          /Reference log-probabilities of the pairs under the starting model in [\d.]+ s \(kept in the project\)/,
        )
    }
    // Another DPO run on the same pairs from the same model reads the reference back.
    const again = frugal(['train', '--config', join(dir, 'dpo.json'), '--db', db], home).stderr
    expect(again).toMatch(/Reference log-probabilities of the pairs read from the project/)

    // Choices made in Evaluate's A/B view train a preference run with no dataset at all;
    // ties are not pairs, and a chat comparison is rendered as a conversation.
    const store = Store.open(db)
    const now = new Date().toISOString()
    const chatSource = { label: 'sums', settings: { chat: true } }
    for (let i = 0; i < 6; i++)
      store.ratings.prefer(
        {
          prompt: `What is ${i + 1}+2?`,
          outputA: String(i + 3),
          outputB: `It is ${i + 3}.`,
          sourceA: chatSource,
          sourceB: chatSource,
          choice: i === 5 ? 'tie' : 'b',
        },
        now,
      )
    store.close()
    const choicesOnly = join(dir, 'choices.json')
    writeFileSync(
      choicesOnly,
      JSON.stringify({
        name: 'from-choices',
        data: { tokenizer: 'sums-char' },
        init: { run: 'sums' },
        train: { kind: 'simpo', steps: 4, batchSize: 4, evalEvery: 4, checkpointEvery: 4 },
      }),
    )
    expect(frugal(['train', '--config', choicesOnly, '--db', db], home).stderr).toMatch(
      /Learning from 5 preference pairs \(5 of them chosen in Evaluate's A\/B view\), too few to hold any out/,
    )
  }, 240_000)
})
