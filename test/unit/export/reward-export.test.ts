import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { trainConfigSchema } from '../../../src/shared/config/train'
import { exportCheckpoint } from '../../../src/worker/export/export'
import { importModel } from '../../../src/worker/export/import'
import { readSafetensors, toFloat32 } from '../../../src/worker/export/safetensors'
import { loadCheckpoint } from '../../../src/worker/infer/load'
import { scoreReplies } from '../../../src/worker/infer/reward'
import { modelConfigSchema, type ModelConfigInput } from '../../../src/worker/model/config'
import { initialValues, names, paramSpecs, scoreSpec } from '../../../src/worker/model/params'
import { Rng } from '../../../src/shared/rng'
import { trainChar } from '../../../src/worker/tokenizer'
import { setupTf } from '../../helpers/tfjs'
import { useTempDir } from '../../helpers/temp'

const tempDir = useTempDir('frugal-reward-export-')

beforeAll(async () => {
  await setupTf()
})

const text = 'Shall I compare thee to a summer day? Thou art more lovely and more temperate.'

/** A project holding a reward run of `model` (random weights and score head). */
async function rewardProject(
  dir: string,
  model: Omit<ModelConfigInput, 'vocabSize'>,
  file = 'p.frugal',
): Promise<Store> {
  const store = Store.create(join(dir, file))
  const { tokenizer } = await trainChar([text])
  const config = modelConfigSchema.parse({ vocabSize: tokenizer.vocabSize, ...model })
  const weights = initialValues(config, new Rng(5))
  weights.set(names.score, new Rng(6).normalArray(config.width, 0.5))
  const now = new Date().toISOString()
  store.write(() => {
    const tokenizerId = store.tokenizers.insert({
      name: 'verse-char',
      kind: 'char',
      vocabSize: tokenizer.vocabSize,
      datasetId: null,
      options: {},
      stats: null,
      json: tokenizer.serialize(),
      createdAt: now,
    })
    store.runs.create(
      {
        id: 'rm',
        name: 'judge',
        modelConfig: config,
        trainConfig: trainConfigSchema.parse({ kind: 'reward' }),
        data: { datasetId: null, tokenizerId, valFraction: 0.1 },
        tokenSetId: null,
        parentRunId: null,
        parentCheckpointId: null,
      },
      now,
    )
    store.checkpoints.write({
      runId: 'rm',
      step: 10,
      reason: 'final',
      state: {},
      tensors: new Map(
        [...paramSpecs(config), scoreSpec(config)].map((s) => [
          `param/${s.name}`,
          { shape: [...s.shape], values: weights.get(s.name)! },
        ]),
      ),
      trainLoss: null,
      valLoss: null,
      createdAt: now,
      fullEvery: 1,
    })
  })
  return store
}

/** The reward run exported in fp32 to `dir/judge`, and its config.json. */
async function exported(store: Store, dir: string) {
  const out = join(dir, 'judge')
  await exportCheckpoint(store, { runId: 'rm', out, dtype: 'fp32' })
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >
  return { out, config }
}

const dense: Omit<ModelConfigInput, 'vocabSize'> = {
  contextLength: 64,
  layers: 2,
  heads: 2,
  kvHeads: 1,
  width: 16,
  tieEmbeddings: false,
}

describe('exporting a reward model', () => {
  it('writes a LlamaForSequenceClassification folder with one score, which imports as a reward model scoring the same', async () => {
    const dir = tempDir()
    const store = await rewardProject(dir, dense)
    const { out, config } = await exported(store, dir)
    expect(config).toMatchObject({
      architectures: ['LlamaForSequenceClassification'],
      model_type: 'llama',
      id2label: { '0': 'LABEL_0' },
      label2id: { LABEL_0: 0 },
    })
    const { tensors } = readSafetensors(join(out, 'model.safetensors'))
    // transformers' score head is a Linear(width → 1): [1, width], the checkpoint's values.
    const score = tensors.get('score.weight')!
    expect(score.shape).toEqual([1, 16])
    const saved = loadCheckpoint(store, 'rm').weights.get(names.score)!
    expect(Array.from(toFloat32(score))).toEqual(Array.from(saved))
    expect(tensors.has('lm_head.weight')).toBe(false) // a reward model has no vocabulary head
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain(
      'AutoModelForSequenceClassification',
    )

    // Read back from Llama's own fields (as a folder from elsewhere would be): a reward run
    // that ranks replies with the same scores.
    delete config.frugal_config
    writeFileSync(join(out, 'config.json'), JSON.stringify(config))
    const imported = importModel(store, { path: out, name: 'judge again' })
    const back = loadCheckpoint(store, imported.runId)
    expect(trainConfigSchema.parse(back.run.trainConfig).kind).toBe('reward')
    const replies = ['Thou art more lovely.', 'summer', 'a day']
    const before = await scoreReplies(loadCheckpoint(store, 'rm'), 'Shall I', replies, false)
    const after = await scoreReplies(back, 'Shall I', replies, false)
    expect(after.map((r) => r.reply)).toEqual(before.map((r) => r.reply))
    for (const [i, r] of after.entries()) expect(r.score).toBeCloseTo(before[i].score, 5)
    store.close()
  })

  it('refuses a GGUF of a reward model, and a mixture-of-experts one, before writing anything', async () => {
    const dir = tempDir()
    const store = await rewardProject(dir, dense)
    const gguf = join(dir, 'judge.gguf')
    await expect(
      exportCheckpoint(store, { runId: 'rm', out: gguf, format: 'gguf', dtype: 'fp32' }),
    ).rejects.toMatchObject({ code: 'invalid_params', field: 'format' })
    expect(existsSync(gguf)).toBe(false)
    store.close()

    const moe = await rewardProject(
      dir,
      { ...dense, moe: { routedExperts: 4, topK: 2, firstDenseLayers: 1 } },
      'moe.frugal',
    )
    const out = join(dir, 'moe-judge')
    await expect(exportCheckpoint(moe, { runId: 'rm', out, dtype: 'fp32' })).rejects.toThrow(
      /mixture-of-experts reward model cannot be exported/,
    )
    expect(existsSync(out)).toBe(false)
    moe.close()
  })

  it('refuses to import a classifier with several labels, naming id2label', async () => {
    const dir = tempDir()
    const store = await rewardProject(dir, dense)
    const { out, config } = await exported(store, dir)
    config.id2label = { '0': 'NEGATIVE', '1': 'NEUTRAL', '2': 'POSITIVE' }
    writeFileSync(join(out, 'config.json'), JSON.stringify(config))
    expect(() => importModel(store, { path: out, name: 'sentiment' })).toThrow(
      /LlamaForSequenceClassification with 3 labels \(id2label\) is a classifier/,
    )
    store.close()
  })
})
