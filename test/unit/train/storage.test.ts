import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { decodeTensor, encodeTensor } from '../../../src/store/tensor-codec'
import { UserError } from '../../../src/shared/errors'
import { trainChar } from '../../../src/worker/tokenizer'
import { encodeDataset } from '../../../src/worker/train/encode'
import { createRun, parseRunFile, validateConfigs } from '../../../src/worker/train/setup'
import { useTempDir } from '../../helpers/temp'
import { addDocuments } from '../../helpers/documents'

const tempDir = useTempDir()

function noisy(n: number, seed: number, scale = 0.02): Float32Array {
  let s = seed
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return ((s / 4294967296) * 2 - 1) * scale
  })
}

describe('tensor codec', () => {
  it('round-trips floats exactly, including deltas, NaN and infinities', () => {
    const base = noisy(1000, 1)
    base[3] = NaN
    base[4] = -Infinity
    base[5] = -0
    const next = base.map((x, i) => (i % 7 === 0 ? x * 1.001 : x))
    for (const [values, against] of [
      [base, undefined],
      [next, base],
    ] as const) {
      const enc = encodeTensor(values, against)
      const dec = decodeTensor(enc, values.length, against)
      expect(new Uint32Array(dec.buffer)).toEqual(
        new Uint32Array(values.buffer, values.byteOffset, values.length),
      )
    }
  })

  it('makes small changes small: a delta of slightly moved weights compresses well', () => {
    const base = noisy(50_000, 2)
    const moved = base.map((x, i) => x + (i % 3 === 0 ? 1e-6 : 0))
    const delta = encodeTensor(moved, base)
    expect(delta.encoding).toBe('xor-shuffle-deflate')
    expect(delta.data.length).toBeLessThan(moved.byteLength / 4)
    expect(() => decodeTensor(delta, moved.length)).toThrow(/needs its base/)
  })
})

describe('checkpoints in the project', () => {
  it('stores full and delta checkpoints, reads them back exactly and prunes old ones', () => {
    const store = Store.create(join(tempDir(), 'c.frugal'))
    const ds = store.datasets.create('d', 'now')
    addDocuments(store, ds, [{ source: 's', text: 'abc' }])
    const tok = store.tokenizers.insert({
      name: 't',
      kind: 'char',
      vocabSize: 10,
      datasetId: ds,
      options: {},
      stats: null,
      json: '{}',
      createdAt: 'now',
    })
    const run = createRun(store, {
      name: 'r',
      model: { layers: 1, heads: 2, width: 8 },
      train: {},
      data: { datasetId: ds, tokenizerId: tok, valFraction: 0.1 },
    })
    let w = noisy(4096, 3)
    const written = []
    for (let step = 1; step <= 6; step++) {
      w = w.map((x, i) => (i % 5 === step % 5 ? x + 1e-5 : x))
      written.push({
        step,
        values: w.slice(),
        info: store.checkpoints.write({
          runId: run.id,
          step,
          reason: 'interval',
          state: { step },
          tensors: new Map([['param/w', { shape: [64, 64], values: w.slice() }]]),
          trainLoss: 1,
          valLoss: null,
          createdAt: 'now',
          fullEvery: 3,
        }),
      })
    }
    expect(written.map((c) => c.info.kind)).toEqual([
      'full',
      'delta',
      'delta',
      'full',
      'delta',
      'delta',
    ])
    expect(written[2].info.baseId).toBe(written[0].info.id)
    for (const c of written) {
      expect(store.checkpoints.tensors(c.info.id).get('param/w')!.values).toEqual(c.values)
      expect(store.checkpoints.state(c.info.id)).toEqual({ step: c.step })
    }
    expect(store.checkpoints.prune(run.id, 2)).toBe(3)
    // The newest two survive, and so does the full checkpoint they are deltas of.
    expect(store.checkpoints.list(run.id).map((c) => c.step)).toEqual([4, 5, 6])
    store.close()
  })
})

describe('encoding a dataset for training', () => {
  it('holds out whole documents when there are many, and the tail of each when there are few', async () => {
    const store = Store.create(join(tempDir(), 'e.frugal'))
    const many = store.datasets.create('many', 'now')
    addDocuments(
      store,
      many,
      Array.from({ length: 200 }, (_, i) => ({ source: `${i}`, text: `document ${i} says hello` })),
    )
    const one = store.datasets.create('one', 'now')
    addDocuments(store, one, [{ source: 'book', text: 'x'.repeat(1000) }])
    const { tokenizer } = await trainChar(['document says hello 0123456789x'])
    const tok = store.tokenizers.insert({
      name: 'c',
      kind: 'char',
      vocabSize: tokenizer.vocabSize,
      datasetId: null,
      options: {},
      stats: null,
      json: tokenizer.serialize(),
      createdAt: 'now',
    })

    const byDoc = encodeDataset(store, tokenizer, {
      datasetId: many,
      tokenizerId: tok,
      valFraction: 0.2,
    })
    expect(byDoc.splitBy).toBe('document')
    expect(byDoc.trainDocs + byDoc.valDocs).toBe(200)
    expect(byDoc.valDocs).toBeGreaterThan(20)
    expect(byDoc.valDocs).toBeLessThan(60)
    // Every document is there, with an end-of-text id after each.
    const train = store.tokenSets.read(byDoc.tokenSetId, 'train')
    expect(Array.from(train).filter((id) => id === tokenizer.eos).length).toBe(byDoc.trainDocs)
    expect(tokenizer.decode(train.slice(0, 24), { skipSpecial: true })).toMatch(
      /^document \d+ says hello/,
    )

    const byPosition = encodeDataset(store, tokenizer, {
      datasetId: one,
      tokenizerId: tok,
      valFraction: 0.1,
    })
    expect(byPosition).toMatchObject({ splitBy: 'position', trainTokens: 901, valTokens: 101 })
    store.close()
  })
})

describe('run configuration', () => {
  it('names the field at fault before anything runs', () => {
    const fieldOf = (fn: () => unknown) => {
      try {
        fn()
      } catch (err) {
        if (err instanceof UserError) return `${err.field}: ${err.message}`
        throw err
      }
      return 'no error'
    }
    expect(fieldOf(() => validateConfigs({ width: 100, heads: 3 }, {}, 50))).toMatch(
      /^model\.heads: model\.heads: width 100 is not divisible by 3 heads/,
    )
    expect(fieldOf(() => validateConfigs({ heads: 4, kvHeads: 3 }, {}, 50))).toMatch(
      /^model\.kvHeads: .*4 heads do not split into 3 key\/value groups/,
    )
    expect(fieldOf(() => validateConfigs({}, { learningRate: -1 }, 50))).toMatch(
      /^train\.learningRate/,
    )
    expect(fieldOf(() => validateConfigs({ vocabSize: 10 }, {}, 50))).toMatch(
      /smaller than the tokenizer's 50 ids/,
    )
    expect(
      fieldOf(() => parseRunFile({ data: { dataset: 'x', tokenizer: 'y' }, model: {}, trian: {} })),
    ).toMatch(/Unrecognized key/)
  })

  it('accepts every preset shipped with Frugal', () => {
    const dir = 'resources/presets'
    for (const file of readdirSync(dir)) {
      const run = parseRunFile(JSON.parse(readFileSync(join(dir, file), 'utf8')))
      expect(() => validateConfigs(run.model, run.train, 2048), file).not.toThrow()
    }
  })
})
