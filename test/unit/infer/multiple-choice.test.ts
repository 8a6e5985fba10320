import * as tf from '@tensorflow/tfjs-core'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Decoder } from '../../../src/worker/infer/decoder'
import {
  decoderLogLikelihood,
  mcPrompt,
  parseMcCsv,
  readMcFolder,
  scoreMc,
} from '../../../src/worker/infer/multiple-choice'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { Transformer, type Params } from '../../../src/worker/model/model'
import { initialValues, paramSpecs } from '../../../src/worker/model/params'
import { Rng } from '../../../src/shared/rng'
import { trainChar } from '../../../src/worker/tokenizer'
import { setupTf } from '../../helpers/tfjs'
import { useTempDir } from '../../helpers/temp'

const tempDir = useTempDir('frugal-mc-')

beforeAll(async () => {
  await setupTf()
})

const geography = [
  'What is the capital of France?,Berlin,Paris,Madrid,Rome,B',
  'Which river flows through Cairo?,Nile,Danube,Thames,Seine,A',
  '"Which ocean lies west of Portugal, then?",Indian,Arctic,Atlantic,Pacific,C',
].join('\n')

describe('MMLU-layout files', () => {
  it('reads questions, keeps commas inside quotes, and reports bad rows with file and line', () => {
    const r = parseMcCsv(
      `${geography}\n"Which sea\nis the saltiest?",Dead,Red,Black,White,A\nA question with no answer,yes,no\nQ,a,b,c,d,Z\n`,
      'geo.csv',
    )
    expect(r.questions).toHaveLength(4)
    expect(r.questions[3].question).toBe('Which sea\nis the saltiest?')
    expect(r.questions[2]).toEqual({
      question: 'Which ocean lies west of Portugal, then?',
      choices: ['Indian', 'Arctic', 'Atlantic', 'Pacific'],
      answer: 2,
    })
    expect(r.problems).toEqual([
      {
        file: 'geo.csv',
        line: 6,
        message: '3 fields; a question, at least two choices and an answer letter are needed',
      },
      { file: 'geo.csv', line: 7, message: 'the answer "Z" is not one of A, B, C, D' },
    ])
  })

  it('finds subjects in MMLU’s own layout, with their dev examples', () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'test'))
    mkdirSync(join(dir, 'dev'))
    writeFileSync(join(dir, 'test', 'world_geography_test.csv'), geography)
    writeFileSync(join(dir, 'dev', 'world_geography_dev.csv'), 'What is 2+2?,3,4,5,6,B')
    const { subjects } = readMcFolder(dir)
    expect(subjects).toEqual([
      expect.objectContaining({
        name: 'world geography',
        dev: [expect.objectContaining({ answer: 1 })],
      }),
    ])
    expect(subjects[0].test).toHaveLength(3)
    expect(() => readMcFolder(join(dir, 'nope'))).toThrow(/no folder/)
  })
})

describe('scoring by log-likelihood', () => {
  const subjects = [{ name: 'geography', test: parseMcCsv(geography, 'g').questions, dev: [] }]
  /** A "model" that knows the answers: the right choice is likelier, by a known margin. */
  const knows: Record<string, string> = {
    'capital of France': 'Paris',
    Cairo: 'Nile',
    Portugal: 'Atlantic',
  }
  const oracle = (prompt: string, continuation: string) =>
    Object.entries(knows).some(([q, a]) => prompt.includes(q) && continuation === ` ${a}`) ? -1 : -9

  it('gets a hand-made case right, reports chance, and is wrong when the model is', async () => {
    const r = await scoreMc(
      subjects,
      0,
      (p, c) => Promise.resolve(oracle(p, c)),
      (t) => t.length,
    )
    expect(r.overall).toEqual({ questions: 3, correct: 3, accuracy: 1, chance: 0.25 })
    expect(r.subjects[0]).toMatchObject({ name: 'geography', correct: 3 })
    const contrarian = await scoreMc(
      subjects,
      0,
      (p, c) => Promise.resolve(-oracle(p, c)),
      (t) => t.length,
    )
    expect(contrarian.overall.correct).toBe(0)
  })

  it('writes k-shot prompts from the dev examples', () => {
    const dev = parseMcCsv('What is 2+2?,3,4,5,6,B', 'd').questions
    expect(mcPrompt('arithmetic', dev, dev[0])).toBe(
      'The following are multiple choice questions (with answers) about arithmetic.\n\n' +
        'What is 2+2?\nAnswer: 4\n\nWhat is 2+2?\nAnswer:',
    )
  })

  // Padded: an embedding with rows past the tokenizer's ids, as Qwen's (rows were misread).
  for (const padding of [0, 11])
    it(`sums the continuation's log-probabilities as the training forward computes them (${padding} padded rows)`, async () => {
      const { tokenizer } = await trainChar(['What is the capital of France? Paris Berlin Answer:'])
      const config = modelConfigSchema.parse({
        vocabSize: tokenizer.vocabSize + padding,
        contextLength: 64,
        layers: 2,
        heads: 2,
        width: 16,
        initStd: 0.2,
      })
      const values = initialValues(config, new Rng(3))
      const params: Params = {}
      for (const s of paramSpecs(config)) params[s.name] = tf.tensor(values.get(s.name)!, s.shape)
      const ll = decoderLogLikelihood(new Decoder(config, params), tokenizer)
      const prompt = 'What is the capital of France?\nAnswer:'
      const got = await ll(prompt, ' Paris')
      // The same from the training forward, by hand.
      const ids = [tokenizer.eos!, ...tokenizer.encode(prompt), ...tokenizer.encode(' Paris')]
      const model = new Transformer(config)
      const { logits } = await model.forwardAsync(params, tf.tensor1d(ids, 'int32'), 1, ids.length)
      const logp = await tf.logSoftmax(logits).array()
      let expected = 0
      for (let i = ids.length - 6; i < ids.length; i++) expected += logp[i - 1][ids[i]]
      expect(got).toBeCloseTo(expected, 3)
      expect(got).toBeLessThan(0)
    })
})
