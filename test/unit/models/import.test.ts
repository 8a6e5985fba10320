import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { exportCheckpoint } from '../../../src/worker/export/export'
import { importModel, readHfFolder } from '../../../src/worker/export/import'
import { quantizeRows } from '../../../src/worker/export/quantize'
import {
  bytesOf,
  readSafetensors,
  toFloat32,
  writeSafetensors,
  type StoredTensor,
} from '../../../src/worker/export/safetensors'
import { Decoder } from '../../../src/worker/infer/decoder'
import { loadCheckpoint, toParams } from '../../../src/worker/infer/load'
import { setupTf } from '../../helpers/tfjs'
import { useTempDir } from '../../helpers/temp'
import { frugal, trainedProject } from '../../helpers/trained-project'

const tempDir = useTempDir('frugal-import-')

beforeAll(async () => {
  await setupTf()
})

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/**
 * An int8 folder as Frugal exported them until GGUF's q8_0 replaced the format: every
 * projection, the embedding and the head as I8 rows with a float32 `{name}_scale` each.
 */
function writeLegacyInt8(from: string, to: string) {
  mkdirSync(to)
  for (const f of ['config.json', 'tokenizer.json'])
    writeFileSync(join(to, f), readFileSync(join(from, f)))
  const stored = new Map<string, StoredTensor>()
  for (const [name, t] of readSafetensors(join(from, 'model.safetensors')).tensors) {
    if (!/(_proj\.weight|embed_tokens\.weight|lm_head\.weight)$/.test(name)) {
      stored.set(name, t)
      continue
    }
    const [rows, cols] = t.shape
    const q = quantizeRows(toFloat32(t), rows, cols)
    stored.set(name, { dtype: 'I8', shape: t.shape, data: bytesOf(q.values) })
    stored.set(`${name}_scale`, { dtype: 'F32', shape: [rows, 1], data: bytesOf(q.scales) })
  }
  writeSafetensors(join(to, 'model.safetensors'), stored)
}

describe('importing an exported model and starting a run from it', () => {
  it(
    'imports fp32 exactly and int8 within half a step, refuses broken folders, and a new run starts from the weights',
    { timeout: 240_000 },
    async () => {
      const dir = tempDir()
      const { db, runId } = trainedProject(dir)
      const home = join(dir, 'home')
      let store = Store.open(db)
      const fp32 = join(dir, 'fp32')
      await exportCheckpoint(store, { runId, out: fp32, dtype: 'fp32' })
      const int8 = join(dir, 'int8')
      writeLegacyInt8(fp32, int8)

      // fp32: the same weights, hence the same logits.
      const original = loadCheckpoint(store, runId)
      const imported = importModel(store, { path: fp32, name: 'verses-model' })
      expect(imported).toMatchObject({ name: 'verses-model', dtype: 'F32' })
      const back = loadCheckpoint(store, imported.runId)
      expect(back.config).toEqual(original.config)
      for (const [name, values] of original.weights)
        expect(maxDiff(back.weights.get(name)!, values), name).toBe(0)
      const ids = Array.from(original.tokenizer.encode('Shall I compare thee'))
      const a = new Decoder(original.config, toParams(original.config, original.weights))
      const b = new Decoder(back.config, toParams(back.config, back.weights))
      expect(maxDiff(await b.feed(ids), await a.feed(ids))).toBe(0)
      a.dispose()
      b.dispose()
      expect(store.runs.get(imported.runId)?.status).toBe('completed')

      // int8 (what Frugal exported before GGUF q8_0 replaced it): each weight within half
      // its row's quantization step; a taken tokenizer name gets a number.
      const q = importModel(store, { path: int8, name: 'verses-model' })
      expect(q.dtype).toBe('F32+I8')
      expect(q.tokenizerName).toBe('verses-model (2)')
      const qb = loadCheckpoint(store, q.runId)
      const name = 'layers.1.attn.q.weight'
      const w = original.weights.get(name)!
      const largest = Math.max(...Array.from(w, Math.abs))
      expect(maxDiff(qb.weights.get(name)!, w)).toBeLessThanOrEqual(largest / 127 / 2 + 1e-7)

      // Broken folders are refused with the reason.
      const broken = join(dir, 'broken')
      mkdirSync(broken)
      writeFileSync(join(broken, 'config.json'), '{ not json')
      expect(() => readHfFolder(broken)).toThrow(/has no model.safetensors/)
      writeFileSync(
        join(broken, 'model.safetensors'),
        readFileSync(join(fp32, 'model.safetensors')),
      )
      writeFileSync(join(broken, 'tokenizer.json'), readFileSync(join(fp32, 'tokenizer.json')))
      expect(() => readHfFolder(broken)).toThrow(/config.json is not valid JSON/)
      const config = JSON.parse(readFileSync(join(fp32, 'config.json'), 'utf8')) as Record<
        string,
        unknown
      >
      delete config.frugal_config
      writeFileSync(
        join(broken, 'config.json'),
        JSON.stringify({ ...config, num_key_value_heads: 1 }),
      )
      // Grouped-query attention is read, and weights that do not fit it are refused by name.
      expect(() => readHfFolder(broken)).toThrow(
        /k_proj\.weight has shape \[\d+, \d+\], but the config needs/,
      )
      rmSync(join(broken, 'tokenizer.json'))
      expect(() => readHfFolder(broken)).toThrow(/has no tokenizer.json/)
      store.close()

      // A new run on the verses, initialized from the imported model (its tokenizer), with a
      // learning rate so small that after one step its weights are still the imported ones.
      const runFile = (init: object, tokenizer: string) => {
        const file = join(dir, 'init.json')
        writeFileSync(
          file,
          JSON.stringify({
            name: 'from-import',
            data: { dataset: 'verses', tokenizer },
            init,
            model: { layers: 1 }, // ignored: the architecture is the imported one
            train: { steps: 1, batchSize: 2, learningRate: 1e-9, warmupSteps: 0, threads: 1 },
          }),
        )
        return file
      }
      const lines = frugal(
        [
          'train',
          '--config',
          runFile({ run: imported.runId }, imported.tokenizerName),
          '--db',
          db,
          '--json',
        ],
        home,
      )
      const summary = JSON.parse(lines.trim().split('\n').at(-1)!) as { runId: string }
      store = Store.open(db)
      const started = loadCheckpoint(store, summary.runId)
      expect(started.config).toEqual(original.config)
      expect(started.checkpoint.step).toBe(1)
      // (The aux-free router bias moves by its own balancing rate, not the learning rate.)
      for (const [n, values] of original.weights)
        if (!n.endsWith('router.bias'))
          expect(maxDiff(started.weights.get(n)!, values), n).toBeLessThan(1e-6)
      // Another tokenizer than the model's is refused, naming the one to use.
      const other = store.tokenizers.list().find((t) => !t.name.startsWith('verses-model'))!.name
      store.close()
      expect(() =>
        frugal(['train', '--config', runFile({ run: imported.runId }, other), '--db', db], home),
      ).toThrow(
        /was trained with the tokenizer "verses-model": a run that starts from it must use the same one/,
      )
    },
  )
})
