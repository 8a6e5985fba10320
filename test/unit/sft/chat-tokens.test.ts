import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { readSafetensors } from '../../../src/worker/export/safetensors'
import { growVocabulary } from '../../../src/worker/model/grow-vocabulary'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { names } from '../../../src/worker/model/params'
import { trainBpe } from '../../../src/worker/tokenizer'
import { CHATML_TOKENS, withSpecialTokens } from '../../../src/worker/tokenizer/chat-tokens'
import { useTempDir } from '../../helpers/temp'
import { sums } from '../../helpers/conversations'
import { chatReply, frugalOutput as frugal } from '../../helpers/trained-project'

const tmp = useTempDir()

describe('chat tokens added to a Frugal tokenizer', () => {
  it('keep every existing id, and a grown model computes what it did on them', async () => {
    const text = 'Shall I compare thee to a summer day? Thou art more lovely. '.repeat(40)
    const { tokenizer } = await trainBpe([text], { vocabSize: 300 })
    const { tokenizer: chat, added } = withSpecialTokens(tokenizer.serialize(), CHATML_TOKENS)
    expect(added).toEqual([tokenizer.vocabSize, tokenizer.vocabSize + 1])
    expect(Array.from(chat.encode(text))).toEqual(Array.from(tokenizer.encode(text)))
    const turn = '<|im_start|>user\nShall I<|im_end|>\n'
    const ids = Array.from(chat.encode(turn, { allowSpecial: true }))
    expect(ids[0]).toBe(added[0])
    expect(ids).toContain(added[1])
    expect(chat.decode(Int32Array.from(ids))).toBe(turn)
    // In ordinary text the markers stay text, so a document cannot fake a turn.
    expect(Array.from(chat.encode(turn))).not.toContain(added[0])
    expect(() => withSpecialTokens(chat.serialize(), ['<|im_end|>'])).toThrow(
      /already has the token <\|im_end\|>/,
    )

    // Growing the embedding: old rows unchanged, new rows the mean of the old (untied head too).
    // (Only the width, vocabulary and tying matter here: a 2-wide model keeps the numbers small.)
    const c = { ...modelConfigSchema.parse({ vocabSize: 5 }), width: 2, tieEmbeddings: false }
    const grown = growVocabulary(
      c,
      new Map([
        [names.embed, Float32Array.from([1, 2, 3, 4, 5, 6])], // (3, 2)
        [names.lmHead, Float32Array.from([1, 2, 3, 4, 5, 6])], // (2, 3)
      ]),
    )
    expect(Array.from(grown.get(names.embed)!)).toEqual([1, 2, 3, 4, 5, 6, 3, 4, 3, 4])
    expect(Array.from(grown.get(names.lmHead)!)).toEqual([1, 2, 3, 2, 2, 4, 5, 6, 5, 5])
  })

  it('fine-tune a model into ChatML through the CLI: replies learned, ending at <|im_end|>, exported with the tokens', () => {
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
    const runFile = (name: string, run: object) => {
      const path = join(dir, `${name}.json`)
      writeFileSync(path, JSON.stringify({ name, ...run }))
      return path
    }
    const sft = (steps: number) => ({
      kind: 'sft',
      steps,
      batchSize: 8,
      learningRate: 3e-3,
      warmupSteps: 5,
      evalEvery: steps,
      checkpointEvery: steps,
    })
    // A model fine-tuned with Frugal's own template on its character tokenizer.
    frugal(
      [
        'train',
        '--config',
        runFile('base', {
          data: { dataset: 'sums', tokenizer: { kind: 'char' } },
          model: { contextLength: 48, layers: 2, heads: 2, width: 48 },
          train: sft(40),
        }),
        '--db',
        db,
      ],
      home,
    )
    const added = JSON.parse(
      frugal(
        ['tokenizer', 'add-chat-tokens', '--tokenizer', 'sums-char', '--db', db, '--json'],
        home,
      ).stdout,
    ) as { name: string; vocabSize: number; added: number[] }
    expect(added.name).toBe('sums-char-chat')
    const V = added.vocabSize - 2
    expect(added.added).toEqual([V, V + 1])

    // LoRA cannot train the new embedding rows: refused, naming the field.
    expect(() =>
      frugal(
        [
          'train',
          '--config',
          runFile('lora', {
            data: { dataset: 'sums', tokenizer: 'sums-char-chat' },
            init: { run: 'base' },
            train: { ...sft(4), lora: { rank: 4 } },
          }),
          '--db',
          db,
        ],
        home,
      ),
    ).toThrow(/train\.lora.*LoRA keeps the embedding frozen/)

    // From the base model, on the extended tokenizer: ChatML, the replies alone trained.
    const run = frugal(
      [
        'train',
        '--config',
        runFile('chatml', {
          data: { dataset: 'sums', tokenizer: 'sums-char-chat' },
          init: { run: 'base' },
          train: sft(120),
        }),
        '--db',
        db,
        '--json',
      ],
      home,
    )
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; loss?: number; runId?: string })
    const losses = lines.filter((l) => l.type === 'step').map((l) => l.loss!)
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.3)
    const runId = lines.at(-1)!.runId!
    const store = Store.open(db)
    const row = store.runs.get(runId)!
    store.close()
    expect((row.modelConfig as { vocabSize: number }).vocabSize).toBe(V + 2)
    expect(row.data.chatTemplate).toMatch(/<\|im_start\|>/)

    // Chat: through ChatML; the reply ends by itself at <|im_end|>.
    const chat = chatReply(db, home, runId, 'What is 4+3?')
    expect(chat.stop).toBe('eos')
    expect(chat.text.trim()).toMatch(/^\d+$/)

    // The export: the tokens at their ids, ChatML as the template, an embedding row for each.
    const folder = join(dir, 'export')
    frugal(['export', '--run', runId, '--out', folder, '--db', db], home)
    const tokenizer = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as {
      added_tokens: { id: number; content: string; special: boolean }[]
    }
    expect(tokenizer.added_tokens).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: V, content: '<|im_start|>', special: true }),
        expect.objectContaining({ id: V + 1, content: '<|im_end|>', special: true }),
      ]),
    )
    const config = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')) as {
      chat_template: string
    }
    expect(config.chat_template).toMatch(/<\|im_start\|>assistant/)
    const embed = readSafetensors(join(folder, 'model.safetensors')).tensors.get(
      'model.embed_tokens.weight',
    )!
    expect(embed.shape).toEqual([V + 2, 48])
  })
})
