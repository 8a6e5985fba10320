import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { sampleReplies } from '../../../src/worker/grpo/rollout'
import { BatchDecoder } from '../../../src/worker/infer/batch-decoder'
import { Decoder } from '../../../src/worker/infer/decoder'
import { float32Numerics, Transformer } from '../../../src/worker/model/model'
import { Rng } from '../../../src/shared/rng'
import { fullLogits, maxDiff, randomModel, variants } from '../../helpers/random-model'
import { setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

/** Row r's logits (V) of a (rows, V) array. */
const rowOf = (logits: Float32Array, r: number, V: number) => logits.subarray(r * V, (r + 1) * V)

/** The logits after a sequence's last token, from the training forward over all of it. */
async function lastOf(
  config: ReturnType<typeof randomModel>['config'],
  params: ReturnType<typeof randomModel>['params'],
  sequence: number[],
): Promise<Float32Array> {
  const all = await fullLogits(config, params, sequence)
  return all.subarray(all.length - config.vocabSize)
}

describe('decoding rows of different lengths together', () => {
  for (const [name, extra] of Object.entries(variants)) {
    it(`${name}: every row's logits equal its own uncached forward, as rows grow and leave`, async () => {
      const { config, params } = randomModel(extra)
      const V = config.vocabSize
      const before = tf.memory().numTensors
      const sequences = [
        [3, 7, 1, 22, 9],
        [9, 14, 2, 0, 5, 17, 11, 6, 8],
        [4, 2],
      ]
      const decoder = new BatchDecoder(new Transformer(config), params, float32Numerics)
      let logits = await decoder.start(sequences)
      let rows = [0, 1, 2] // which sequence each row of the batch is
      const fed = [
        [12, 1, 20],
        [6, 6, 3],
        [19, 0], // the middle sequence has left
        [2, 13],
      ]
      for (let step = 0; ; step++) {
        for (const [r, s] of rows.entries())
          expect(
            maxDiff(rowOf(logits, r, V), await lastOf(config, params, sequences[s])),
          ).toBeLessThan(1e-4)
        if (step === fed.length) break
        if (step === 2) {
          decoder.keep([0, 2])
          rows = [0, 2]
        }
        fed[step].forEach((id, r) => sequences[rows[r]].push(id))
        logits = await decoder.next(fed[step])
      }
      expect(decoder.rows).toBe(2)
      decoder.dispose()
      expect(tf.memory().numTensors).toBe(before)
    })
  }

  it('refuses an empty prompt, one past the context, and a row that would pass it', async () => {
    const { config, params } = randomModel({})
    const decoder = new BatchDecoder(new Transformer(config), params, float32Numerics)
    await expect(decoder.start([[1, 2], []])).rejects.toThrow(/1 to 24 tokens/)
    await expect(decoder.start([Array.from({ length: 25 }, () => 1)])).rejects.toThrow(/1 to 24/)
    await decoder.start([Array.from({ length: 24 }, () => 1)])
    await expect(decoder.next([1])).rejects.toThrow(/context of 24/)
    decoder.dispose()
  })
})

describe('sampling replies for many prompts at once', () => {
  it('greedy: each prompt gets what decoding it alone gives, up to its end token or limit', async () => {
    const { config, params } = randomModel({
      moe: { routedExperts: 4, sharedExperts: 1, topK: 2, firstDenseLayers: 1 },
    })
    const prompts = [
      [3, 7, 1],
      [9, 14, 2, 0, 5, 17, 11],
      [4],
      [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8],
    ]
    const ends = new Set([5, 11])
    const replies = await sampleReplies(
      new Transformer(config),
      params,
      prompts.map((p) => Int32Array.from(p)),
      {
        maxNewTokens: 6,
        temperature: 0,
        ends,
        vocab: config.vocabSize,
        rng: new Rng(1),
        numerics: float32Numerics,
      },
    )
    const decoder = new Decoder(config, params)
    for (const [i, prompt] of prompts.entries()) {
      // Greedy decoding of this prompt alone, as generation does it.
      decoder.reset()
      const expected: number[] = []
      let logits = await decoder.feed(prompt)
      const limit = Math.min(6, config.contextLength + 1 - prompt.length)
      for (;;) {
        const last = logits.subarray(logits.length - config.vocabSize)
        const id = last.indexOf(Math.max(...last))
        expected.push(id)
        if (ends.has(id) || expected.length >= limit) break
        logits = await decoder.feed([id])
      }
      expect(replies[i].ids).toEqual(expected)
      expect(replies[i].ended).toBe(ends.has(expected[expected.length - 1]))
    }
    // The last prompt leaves room for 3 tokens in the context of 24.
    expect(replies[3].ids.length).toBeLessThanOrEqual(3)
    decoder.dispose()
  })
})
