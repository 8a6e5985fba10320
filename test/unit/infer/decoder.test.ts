import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { Decoder } from '../../../src/worker/infer/decoder'
import { generate, generateOptionsSchema } from '../../../src/worker/infer/generate'
import { sampleToken } from '../../../src/worker/infer/sample'
import { inspectPrompt } from '../../../src/worker/infer/inspect'
import { Rng } from '../../../src/shared/rng'
import { trainChar } from '../../../src/worker/tokenizer'
import { fullLogits, maxDiff, randomModel, variants } from '../../helpers/random-model'
import { setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

const ids = [3, 7, 1, 22, 9, 9, 14, 2, 0, 5, 17, 11, 6, 8]

describe('decoder with a key/value cache', () => {
  for (const [name, extra] of Object.entries(variants)) {
    it(`${name}: cached logits (the prompt at once, then token by token) equal uncached ones`, async () => {
      const { config, params } = randomModel(extra)
      const expected = await fullLogits(config, params, ids)
      const decoder = new Decoder(config, params)
      expect(maxDiff(await decoder.feed(ids), expected)).toBeLessThan(1e-4)
      decoder.reset()
      const rows = [await decoder.feed(ids.slice(0, 5))]
      for (const id of ids.slice(5)) rows.push(await decoder.feed([id]))
      const incremental = new Float32Array(expected.length)
      let at = 0
      for (const r of rows) {
        incremental.set(r, at)
        at += r.length
      }
      expect(maxDiff(incremental, expected)).toBeLessThan(1e-4)
      expect(decoder.length).toBe(ids.length)
      decoder.dispose()
    })
  }

  it('inspection: causal attention rows that sum to 1, and each token routed to its top-k experts', async () => {
    const text = 'abcdefghij'
    const { tokenizer } = await trainChar([text.repeat(3)])
    const { config, params } = randomModel({
      vocabSize: tokenizer.vocabSize,
      attentionWindow: 4,
      moe: { routedExperts: 4, sharedExperts: 1, topK: 2, firstDenseLayers: 1 },
    })
    const decoder = new Decoder(config, params)
    const seen = await inspectPrompt(decoder, tokenizer, text, 64)
    expect(seen.tokens).toEqual(text.split(''))
    const n = text.length
    expect(seen.attention).toHaveLength(config.layers)
    for (const layer of seen.attention) {
      expect(layer).toHaveLength(config.heads)
      for (const head of layer)
        for (let i = 0; i < n; i++) {
          const row = head[i]
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3)
          // Nothing after the query, nothing beyond the 4-token window.
          for (let j = 0; j < n; j++) if (j > i || i - j >= 4) expect(row[j]).toBe(0)
        }
    }
    // Layer 0 is dense; layers 1-3 route every token to 2 distinct experts of 4.
    expect(seen.routing.map((r) => r.layer)).toEqual([1, 2, 3])
    for (const r of seen.routing) {
      expect(r.tokens).toHaveLength(n)
      for (const t of r.tokens) {
        expect(new Set(t.experts).size).toBe(2)
        expect(t.experts.every((e) => e >= 0 && e < 4)).toBe(true)
        expect(t.weights.every((w) => w > 0)).toBe(true)
      }
    }
    expect(decoder.length).toBe(0) // the views leave the cache empty
    decoder.dispose()
  })

  it('refuses to run past the context, and frees its cache', async () => {
    const { config, params } = randomModel({ moe: { routedExperts: 4, topK: 2 } })
    const before = tf.memory().numTensors
    const decoder = new Decoder(config, params)
    await decoder.feed(ids)
    await expect(decoder.feed(Array.from({ length: 11 }, () => 1))).rejects.toThrow(/context is 24/)
    decoder.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('sampling and generation', () => {
  it('greedy takes the largest logit; top-k 1 does too; top-p keeps the nucleus', () => {
    const logits = Float32Array.from([0.1, 2, 1.9, -1])
    const o = generateOptionsSchema.parse({})
    expect(sampleToken(logits, { ...o, temperature: 0 }, new Rng(1))).toBe(1)
    for (let s = 0; s < 20; s++) expect(sampleToken(logits, { ...o, topK: 1 }, new Rng(s))).toBe(1)
    const seen = new Set<number>()
    for (let s = 0; s < 200; s++) seen.add(sampleToken(logits, { ...o, topP: 0.6 }, new Rng(s)))
    expect([...seen].sort()).toEqual([1, 2])
  })

  it('draws exactly the tokens that sorting the whole vocabulary would, ties included', () => {
    // The plain definition: every token sorted by logit (ties: smaller id), top k, nucleus.
    const reference = (
      logits: Float32Array,
      o: { temperature: number; topK: number; topP: number },
      rng: Rng,
    ) => {
      let order = [...logits.keys()].sort((a, b) => logits[b] - logits[a] || a - b)
      if (o.topK > 0) order = order.slice(0, o.topK)
      let probs = order.map((i) => Math.exp((logits[i] - logits[order[0]]) / o.temperature))
      if (o.topP < 1) {
        const total = probs.reduce((a, b) => a + b, 0)
        let mass = 0
        let kept = 0
        while (kept < probs.length && mass < o.topP * total) mass += probs[kept++]
        order = order.slice(0, Math.max(1, kept))
        probs = probs.slice(0, order.length)
      }
      let r = rng.next() * probs.reduce((a, b) => a + b, 0)
      for (let i = 0; i < order.length; i++) if ((r -= probs[i]) <= 0) return order[i]
      return order[order.length - 1]
    }
    const make = new Rng(7)
    let compared = 0
    for (const vocab of [3, 64, 2000])
      for (const o of [
        { temperature: 1, topK: 0, topP: 1 },
        { temperature: 0.7, topK: 10, topP: 1 },
        { temperature: 1, topK: 0, topP: 0.9 },
        { temperature: 1.3, topK: 20, topP: 0.5 },
      ])
        for (let t = 0; t < 60; t++) {
          // Half-unit steps: many ties.
          const logits = Float32Array.from(
            { length: vocab },
            () => Math.round(make.next() * 16) / 2,
          )
          const seed = Math.floor(make.next() * 1e9)
          expect(sampleToken(logits, o, new Rng(seed))).toBe(reference(logits, o, new Rng(seed)))
          compared++
        }
    expect(compared).toBe(720)
  })

  it('generates the same text for the same seed, stops at a stop sequence, and reports speed', async () => {
    const text = 'the tide came in over the harbour wall and the boats rose with it. '.repeat(4)
    const { tokenizer } = await trainChar([text])
    const { config, params } = randomModel({ vocabSize: tokenizer.vocabSize, contextLength: 64 })
    const decoder = new Decoder(config, params)
    const options = generateOptionsSchema.parse({ maxTokens: 30, temperature: 1, seed: 3 })
    const streamed: string[] = []
    const started = performance.now()
    const a = await generate(decoder, tokenizer, 'the tide', options, (t) => streamed.push(t.text))
    const wallMs = performance.now() - started
    const b = await generate(decoder, tokenizer, 'the tide', options)
    expect(a.text).toBe(b.text)
    expect(streamed.join('')).toBe(a.text)
    expect(a.tokens).toBe(30)
    expect(a.stop).toBe('length')
    // The speed reported is the tokens over time spent in this call, prompt excluded.
    expect((a.tokens / a.tokensPerSecond) * 1000 + a.promptMs).toBeLessThanOrEqual(wallMs + 1)
    // Greedy is the argmax at every step, so a stop sequence taken from its own output cuts
    // it where that sequence first appears.
    const greedy = await generate(decoder, tokenizer, 'the tide', { ...options, temperature: 0 })
    const stopAt = greedy.text.slice(4, 7)
    const stopped = await generate(decoder, tokenizer, 'the tide', {
      ...options,
      temperature: 0,
      stop: [stopAt],
    })
    expect(stopped.stop).toBe('stop-sequence')
    expect(stopped.text).toBe(greedy.text.slice(0, greedy.text.indexOf(stopAt)))
    // Past the context (64), generation slides on rather than stopping.
    const long = await generate(decoder, tokenizer, 'the tide', { ...options, maxTokens: 150 })
    expect(long).toMatchObject({ tokens: 150, stop: 'length' })
    decoder.dispose()
  })
})
