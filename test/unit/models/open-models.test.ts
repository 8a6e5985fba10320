import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readGgufFileInfo, type Llama } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { exportCheckpoint } from '../../../src/worker/export/export'
import { fromBfloat16 } from '../../../src/worker/export/floats'
import { transpose } from '../../../src/worker/export/hf'
import { importModel, readHfFolder } from '../../../src/worker/export/import'
import { loadCheckpoint } from '../../../src/worker/infer/load'
import { names } from '../../../src/worker/model/params'
import { documentStart, fromJSON, trainBpe } from '../../../src/worker/tokenizer'
import {
  familyConfig,
  familyTokenizer,
  writeFamilyFolder,
  type Family,
  type FamilyTokenizer,
  type FolderShape,
} from '../../helpers/open-model-folders'
import {
  frugalGreedy,
  frugalLogProbs,
  llamaGreedy,
  llamaLogProbs,
  loadLlama,
  maxDiff,
} from '../../helpers/llama-cpp'
import { setupTf } from '../../helpers/tfjs'
import { useTempDir } from '../../helpers/temp'
import { addDocuments } from '../../helpers/documents'
import { frugal } from '../../helpers/trained-project'

/**
 * Today's small open models come in: folders in the exact layouts of Qwen2.5, Qwen3, SmolLM2
 * and Llama-3.2 (their config.json fields, tensor names, bf16 weights, tokenizer.json
 * pipelines; random weights, a few thousand parameters) import, generate, agree with
 * llama.cpp on their GGUF export (an independent implementation of each architecture:
 * qwen2 with its biases, qwen3 with QK-norm and wide heads, llama with Llama 3's RoPE
 * scaling), and export back to the same
 * folder.
 */

const tempDir = useTempDir('frugal-open-models-')
const text = readFileSync(
  join(import.meta.dirname, '../../fixtures/text/tinyshakespeare-excerpt.txt'),
  'utf8',
).slice(0, 20_000)
// Digits (split differently by each family), and Qwen's <tool_call>, an added token that is
// not special: matched in text by Hugging Face and by llama.cpp alike.
const prompt = 'MENENIUS:\nWhat work is here! 1604 citizens <tool_call> with staves and clubs?'

let llama: Llama
let base: string
beforeAll(async () => {
  await setupTf()
  llama = await loadLlama()
  const specialTokens = ['<|bos|>', '<|eos|>', '<|pad|>']
  base = (await trainBpe([text], { vocabSize: 400, specialTokens })).tokenizer.serialize()
})
afterAll(async () => {
  await llama?.dispose()
})

function shapeFor(family: Family, tok: FamilyTokenizer): FolderShape {
  return {
    hidden: 64,
    heads: 4,
    kvHeads: 2,
    layers: 2,
    intermediate: 96,
    // Qwen's embedding has rows beyond its tokenizer's last id.
    vocab: family.startsWith('qwen') ? tok.size + 11 : tok.size,
    bos: tok.bos,
    eos: tok.eos,
  }
}

const expectedConfig: Record<Family, object> = {
  'qwen2.5': { attentionBias: true, kvHeads: 2, ropeScaling: null, attentionWindow: null },
  qwen3: { attentionBias: false, qkNorm: true, headDim: 24, kvHeads: 2, attentionWindow: null },
  smollm2: { attentionBias: false, kvHeads: 2, ropeScaling: null },
  'llama-3.2': {
    attentionBias: false,
    kvHeads: 2,
    ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 32 },
  },
}

describe('importing folders laid out as Qwen2.5, Qwen3, SmolLM2 and Llama-3.2', () => {
  for (const family of ['qwen2.5', 'qwen3', 'smollm2', 'llama-3.2'] as const)
    it(`${family}: imports, generates as llama.cpp does from its GGUF, and exports back unchanged`, async () => {
      const dir = tempDir()
      const tok = familyTokenizer(family, base)
      const shape = shapeFor(family, tok)
      const folder = join(dir, family)
      // Llama-3.2's weights in three shards, as Hugging Face saves a larger model.
      const stored = writeFamilyFolder(folder, family, shape, tok, {
        shards: family === 'llama-3.2' ? 3 : 1,
      })
      const store = Store.create(join(dir, 'project.frugal'))
      try {
        const imported = importModel(store, { path: folder, name: family })
        expect(imported.dtype).toBe('BF16')
        const model = loadCheckpoint(store, imported.runId)
        expect(model.config).toMatchObject({
          ...expectedConfig[family],
          vocabSize: shape.vocab,
          width: 64,
          heads: 4,
          layers: 2,
          tieEmbeddings: true,
        })
        // A projection, [out, in] in the file, is Frugal's [in, out]; bf16 values exactly.
        const k = stored.get('model.layers.1.self_attn.k_proj.weight')!
        const kFile = fromBfloat16(new Uint16Array(k.data.slice().buffer))
        expect(model.weights.get(names.k(1))).toEqual(transpose(kFile, k.shape[0], k.shape[1]))

        // The GGUF export runs in llama.cpp with the same tokens and the same distributions.
        const gguf = join(dir, `${family}.gguf`)
        await exportCheckpoint(store, {
          runId: imported.runId,
          out: gguf,
          format: 'gguf',
          dtype: 'fp32',
        })
        // The chat template (Qwen's here) travels to llama.cpp, Ollama and LM Studio.
        const chatTemplate = tok.config.chat_template ?? null
        expect(model.chatTemplate).toBe(chatTemplate)
        const info = await readGgufFileInfo(gguf)
        expect((info.metadata.tokenizer as { chat_template?: string }).chat_template ?? null).toBe(
          chatTemplate,
        )
        const ids = Array.from(model.tokenizer.encode(prompt))
        // <tool_call> is one token in Qwen, ordinary text elsewhere.
        expect(ids.includes(model.tokenizer.tokenToId('<tool_call>') ?? -1)).toBe(
          family.startsWith('qwen'),
        )
        const cpp = await llama.loadModel({ modelPath: gguf })
        try {
          expect(cpp.tokenize(prompt)).toEqual(ids)
          // A prompt starts as the family's documents did: Llama 3's template puts
          // <|begin_of_text|> first; Qwen and SmolLM2 packed documents after <|endoftext|>.
          const start = documentStart(model.tokenizer)
          expect(start).toEqual([family === 'llama-3.2' ? tok.bos : tok.eos])
          expect(cpp.tokens.bos).toBe(start[0])
          const V = model.config.vocabSize
          const ours = await frugalLogProbs(model.config, model.weights, ids)
          expect(maxDiff(ours, await llamaLogProbs(cpp, ids, V))).toBeLessThan(1e-4)
          const first = [...start, ...ids.slice(0, 8)]
          expect(await frugalGreedy(model.config, model.weights, first, 16)).toEqual(
            await llamaGreedy(cpp, first, 16),
          )
        } finally {
          await cpp.dispose()
        }

        // Exported back in bf16: the family's architecture, the same weights and tokens.
        const back = join(dir, `${family}-back`)
        await exportCheckpoint(store, { runId: imported.runId, out: back, dtype: 'bf16' })
        const config = JSON.parse(readFileSync(join(back, 'config.json'), 'utf8')) as Record<
          string,
          unknown
        >
        const original = familyConfig(family, shape)
        expect(config.model_type).toBe(original.model_type)
        expect(config.architectures).toEqual(original.architectures)
        expect(config.num_key_value_heads).toBe(2)
        if (family === 'llama-3.2')
          expect(config.rope_scaling).toMatchObject({ rope_type: 'llama3', factor: 32 })
        const again = readHfFolder(back)
        expect(again.config).toEqual(model.config)
        for (const [name, values] of model.weights)
          expect(again.weights.get(name), name).toEqual(values)
        expect(Array.from(again.tokenizer.encode(prompt))).toEqual(ids)
        expect(again.chatTemplate).toBe(chatTemplate)
        expect(fromJSON(readFileSync(join(back, 'tokenizer.json'), 'utf8')).decode(ids)).toBe(
          model.tokenizer.decode(ids),
        )
      } finally {
        store.close()
      }
    })
})

/** A temporary folder with a Qwen2.5-layout model in `qwen/`, and where its project and CLI home go. */
function qwenFolder() {
  const dir = tempDir()
  const tok = familyTokenizer('qwen2.5', base)
  const folder = join(dir, 'qwen')
  writeFamilyFolder(folder, 'qwen2.5', shapeFor('qwen2.5', tok), tok)
  return { dir, home: join(dir, 'home'), db: join(dir, 'p.frugal'), tok, folder }
}

describe('an imported model as a teacher', () => {
  it(
    'a Qwen2.5-layout import (its embedding padded past the tokenizer) teaches a student, live and from its cache',
    { timeout: 180_000 },
    () => {
      const { dir, home, db, tok, folder } = qwenFolder()
      let store = Store.create(db)
      const dataset = store.datasets.create('plays', new Date().toISOString())
      const lines = text.split('\n\n').filter((t) => t.length > 40)
      addDocuments(
        store,
        dataset,
        lines.slice(0, 60).map((t, i) => ({ source: `p${i}`, text: t })),
      )
      const teacher = importModel(store, { path: folder, name: 'qwen-teacher' })
      store.close()
      for (const distillCache of [false, true]) {
        const file = join(dir, `student-${distillCache}.json`)
        writeFileSync(
          file,
          JSON.stringify({
            name: `student-${distillCache ? 'cached' : 'live'}`,
            data: { dataset: 'plays', tokenizer: teacher.tokenizerName },
            teacher: { run: teacher.runId },
            model: { contextLength: 32, layers: 1, heads: 2, width: 16 },
            train: {
              steps: 3,
              batchSize: 2,
              threads: 1,
              warmupSteps: 0,
              distillAlpha: 0.5,
              distillCache,
            },
          }),
        )
        const out = frugal(['train', '--config', file, '--db', db, '--json'], home)
        const { runId } = JSON.parse(out.trim().split('\n').at(-1)!) as { runId: string }
        store = Store.open(db)
        // The student's vocabulary is the tokenizer's, smaller than the teacher's padded one.
        expect(store.runs.get(runId)!.modelConfig).toMatchObject({ vocabSize: tok.size })
        const kl = store.runs.metric(runId, 'distill_kl')
        store.close()
        expect(kl.map((p) => p.step)).toEqual([1, 2, 3])
        for (const p of kl) expect(p.value).toBeGreaterThan(0)
      }
    },
  )
})

describe('an imported model fine-tuned on conversations', () => {
  it(
    'a Qwen2.5-layout import learns replies through its own ChatML template and ends them at <|im_end|>',
    { timeout: 180_000 },
    () => {
      const { dir, home, db, folder } = qwenFolder()
      const store = Store.create(db)
      const dataset = store.datasets.create('greetings', new Date().toISOString())
      const words = ['hello', 'thanks', 'goodbye', 'welcome']
      addDocuments(
        store,
        dataset,
        words.map((w, i) => ({
          source: `g${i}`,
          text: JSON.stringify({
            messages: [
              { role: 'user', content: `Say ${w}.` },
              { role: 'assistant', content: `${w}, citizens!` },
            ],
          }),
        })),
      )
      const imported = importModel(store, { path: folder, name: 'qwen' })
      store.close()
      const file = join(dir, 'sft.json')
      writeFileSync(
        file,
        JSON.stringify({
          name: 'qwen-sft',
          data: { dataset: 'greetings', tokenizer: imported.tokenizerName },
          init: { run: imported.runId },
          train: {
            kind: 'sft',
            // The import's context is Qwen's 32,768: conversations this short need far less.
            sequenceLength: 48,
            steps: 40,
            batchSize: 4,
            learningRate: 3e-3,
            warmupSteps: 4,
            evalEvery: 40,
            checkpointEvery: 40,
            threads: 1,
          },
        }),
      )
      const lines = frugal(['train', '--config', file, '--db', db, '--json'], home)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; loss?: number; runId?: string })
      const losses = lines.filter((l) => l.type === 'step').map((l) => l.loss!)
      console.log(
        losses
          .filter((_, i) => i % 5 === 0)
          .map((x) => x.toFixed(3))
          .join(' '),
      )
      expect(losses.at(-1)!).toBeLessThan(losses[0] / 4)
      const runId = lines.at(-1)!.runId!
      const reply = JSON.parse(
        frugal(
          [
            'generate',
            '--run',
            runId,
            '--prompt',
            'Say thanks.',
            '--chat',
            '--temperature',
            '0',
          ].concat(['--max-tokens', '20', '--db', db, '--json']),
          home,
        )
          .trim()
          .split('\n')
          .at(-1)!,
      ) as { text: string; stop: string }
      expect(reply).toMatchObject({ text: 'thanks, citizens!', stop: 'eos' })
    },
  )
})

describe('folders Frugal cannot run the same way are refused, naming the file and field', () => {
  const folderWith = (
    family: Family,
    edit: (config: Record<string, unknown>, dir: string) => void,
    shards = 1,
  ) => {
    const dir = join(tempDir(), family)
    const tok = familyTokenizer(family, base)
    writeFamilyFolder(dir, family, shapeFor(family, tok), tok, { shards })
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >
    edit(config, dir)
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
    return dir
  }

  it('an unknown architecture, a partly windowed Qwen2, another RoPE scaling, a feed-forward bias', () => {
    const cases: [Family, (c: Record<string, unknown>) => void, RegExp][] = [
      [
        'smollm2',
        (c) => (c.model_type = 'gemma2'),
        /model_type is "gemma2", and Frugal runs llama/,
      ],
      [
        'qwen2.5',
        (c) => Object.assign(c, { use_sliding_window: true, max_window_layers: 1 }),
        /from max_window_layers \(1\) on attend within a window/,
      ],
      [
        'llama-3.2',
        (c) => ((c.rope_scaling as Record<string, unknown>).rope_type = 'yarn'),
        /RoPE scaling of type "yarn" \(rope_scaling\)/,
      ],
      ['smollm2', (c) => (c.mlp_bias = true), /feed-forward projections have biases \(mlp_bias\)/],
    ]
    for (const [family, edit, message] of cases)
      expect(() => readHfFolder(folderWith(family, edit))).toThrow(message)
  })

  it('a missing shard, and a tensor the config does not explain (Qwen2 biases under a Llama config)', () => {
    const sharded = folderWith('llama-3.2', () => {}, 2)
    rmSync(join(sharded, 'model-00002-of-00002.safetensors'))
    expect(() => readHfFolder(sharded)).toThrow(
      /has no model-00002-of-00002.safetensors, which model.safetensors.index.json lists/,
    )
    const relabelled = folderWith('qwen2.5', (c) => {
      c.model_type = 'llama'
      c.architectures = ['LlamaForCausalLM']
    })
    expect(() => readHfFolder(relabelled)).toThrow(
      /has a tensor model.layers.0.self_attn.[qkv]_proj.bias that Frugal's model has no place for/,
    )
  })
})
