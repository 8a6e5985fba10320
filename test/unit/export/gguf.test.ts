import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readGgufFileInfo, type Llama } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ggufModel, ggufRoundTrip, type GgufDtype } from '../../../src/worker/export/gguf-model'
import { GgmlType, writeGguf } from '../../../src/worker/export/gguf'
import { fromFloat16, toFloat16 } from '../../../src/worker/export/floats'
import { modelConfigSchema, type ModelConfigInput } from '../../../src/worker/model/config'
import { initialValues } from '../../../src/worker/model/params'
import { Rng } from '../../../src/shared/rng'
import { trainBpe, trainChar, type Tokenizer } from '../../../src/worker/tokenizer'
import {
  argmaxes,
  frugalGreedy,
  frugalLogProbs,
  llamaGreedy,
  llamaLogProbs,
  loadLlama,
  margins,
  maxDiff,
  tokens,
} from '../../helpers/llama-cpp'
import { setupTf } from '../../helpers/tfjs'

/**
 * GGUF export checked by llama.cpp itself (node-llama-cpp's prebuilt binaries, CPU): the
 * file loads, llama.cpp tokenizes as Frugal does, and its next-token log-probabilities (its
 * whole distribution, untruncated) are those of Frugal's decoder.
 */

const text = readFileSync(
  join(import.meta.dirname, '../../fixtures/text/tinyshakespeare-excerpt.txt'),
  'utf8',
).slice(0, 20_000)
const prompt = 'First Citizen:\nBefore we proceed any further, hear me speak.'

let llama: Llama
let dir: string
let bpe: Tokenizer
let chars: Tokenizer
beforeAll(async () => {
  await setupTf()
  llama = await loadLlama()
  dir = mkdtempSync(join(tmpdir(), 'frugal-gguf-'))
  const specialTokens = ['<|bos|>', '<|eos|>', '<|pad|>']
  bpe = (await trainBpe([text], { vocabSize: 400, specialTokens })).tokenizer
  chars = (await trainChar([text], { specialTokens })).tokenizer
})
afterAll(async () => {
  await llama?.dispose()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function randomModel(vocabSize: number, extra: Partial<ModelConfigInput> = {}) {
  const config = modelConfigSchema.parse({
    vocabSize,
    contextLength: 96,
    layers: 2,
    heads: 2,
    width: 64,
    initStd: 0.1,
    ...extra,
  })
  const weights = initialValues(config, new Rng(3))
  // Attention biases start at zero; give them values so that they count.
  const rng = new Rng(4)
  for (const [name, v] of weights)
    if (/attn\.[qkv]\.bias$/.test(name)) v.set(rng.normalArray(v.length, 0.3))
    else if (/attn\.[qk]_norm\.weight$/.test(name))
      v.set(rng.normalArray(v.length, 0.3).map((x) => 1 + x))
  return { config, weights }
}

async function exported(
  tokenizer: Tokenizer,
  dtype: GgufDtype,
  extra: Partial<ModelConfigInput> = {},
) {
  const { config, weights } = randomModel(tokenizer.vocabSize, extra)
  const { metadata, tensors } = ggufModel(config, weights, tokenizer, { dtype, name: 'test' })
  const path = join(dir, `${tokenizer.kind}-${dtype}-${Object.keys(extra).join('-')}.gguf`)
  writeGguf(path, metadata, tensors)
  return { config, weights, path, model: await llama.loadModel({ modelPath: path }) }
}

describe('GGUF export, run in llama.cpp', () => {
  it('byte-level BPE, f32: llama.cpp tokenizes the same, with the same next-token distributions and greedy text', async () => {
    const { config, weights, model, path } = await exported(bpe, 'f32')
    const info = await readGgufFileInfo(path)
    expect(info.metadata.general.architecture).toBe('llama')
    const ids = Array.from(bpe.encode(prompt))
    expect(model.tokenize(prompt)).toEqual(ids)
    const V = config.vocabSize
    const [ours, theirs] = [
      await frugalLogProbs(config, weights, ids),
      await llamaLogProbs(model, ids, V),
    ]
    expect(maxDiff(ours, theirs)).toBeLessThan(1e-4)
    // Frugal starts a prompt with its separator; the file tells llama.cpp to do the same.
    const start = [bpe.eos!, ...ids.slice(0, 6)]
    expect(model.tokens.bos).toBe(bpe.eos)
    expect(await llamaGreedy(model, start, 24)).toEqual(
      await frugalGreedy(config, weights, start, 24),
    )
    expect(model.detokenize(tokens(ids))).toBe(prompt)
    await model.dispose()
  })

  it('untied head, grouped-query attention, other shapes, f16: the distributions of the 16-bit weights, to f16 rounding', async () => {
    const extra = { tieEmbeddings: false, heads: 4, kvHeads: 2, layers: 3, ropeTheta: 500_000 }
    const { config, weights, model } = await exported(bpe, 'f16', extra)
    const ids = Array.from(bpe.encode(prompt))
    // The file holds matrices in f16 and norms in f32: Frugal with the same rounding.
    const rounded = new Map(
      [...weights].map(([name, v]) => [
        name,
        name.endsWith('norm.weight') ? v : fromFloat16(toFloat16(v)),
      ]),
    )
    const V = config.vocabSize
    const theirs = await llamaLogProbs(model, ids, V)
    const ours = await frugalLogProbs(config, rounded, ids)
    // llama.cpp's CPU matmul of f16 weights rounds the activations to f16 too.
    expect(maxDiff(ours, theirs)).toBeLessThan(1e-2)
    expect(argmaxes(theirs, V)).toEqual(argmaxes(ours, V))
    await model.dispose()
  })

  it('q8_0: about a quarter of the f32 size, log-probabilities within 8-bit rounding, the same clear next tokens', async () => {
    const f32 = await exported(bpe, 'f32', { width: 128 })
    const q8 = await exported(bpe, 'q8_0', { width: 128 })
    const info = await readGgufFileInfo(q8.path)
    const matrices = info.fullTensorInfo!.filter((t) => t.dimensions.length === 2)
    expect(new Set(matrices.map((t) => Number(t.ggmlType)))).toEqual(new Set([GgmlType.Q8_0]))
    expect(q8.model.size / f32.model.size).toBeLessThan(0.35)
    const ids = Array.from(bpe.encode(prompt))
    const V = q8.config.vocabSize
    const ours = await frugalLogProbs(q8.config, q8.weights, ids)
    const theirs = await llamaLogProbs(q8.model, ids, V)
    // llama.cpp rounds the activations of a q8_0 matmul to 8 bits too: logits move by up
    // to about 0.15 here (random weights, the worst case). Wherever Frugal's best token leads
    // by more than twice that, llama.cpp picks it too.
    expect(maxDiff(ours, theirs)).toBeLessThan(0.25)
    const decisive = margins(ours, V).flatMap((m, i) => (m > 0.5 ? [i] : []))
    expect(decisive.length).toBeGreaterThan(ids.length / 5)
    const [a, b] = [argmaxes(ours, V), argmaxes(theirs, V)]
    for (const i of decisive) expect(b[i], `position ${i}`).toBe(a[i])
    // The weights the export measures its perplexity with are the file's: Frugal on them is
    // closer to llama.cpp (its 8-bit activations still differ).
    const stored = await frugalLogProbs(
      q8.config,
      ggufRoundTrip(q8.config, q8.weights, 'q8_0'),
      ids,
    )
    const meanDiff = (x: Float32Array) =>
      x.reduce((s, v, i) => s + Math.abs(v - theirs[i]), 0) / x.length
    expect(meanDiff(stored)).toBeLessThan(meanDiff(ours))
    await Promise.all([f32.model.dispose(), q8.model.dispose()])
  })

  it('q, k and v biases (Qwen2) with grouped-query attention, as llama.cpp qwen2: the same distributions', async () => {
    const extra = { attentionBias: true, heads: 4, kvHeads: 2, tieEmbeddings: true }
    const { config, weights, model, path } = await exported(bpe, 'f32', extra)
    expect((await readGgufFileInfo(path)).metadata.general.architecture).toBe('qwen2')
    const ids = Array.from(bpe.encode(prompt))
    const theirs = await llamaLogProbs(model, ids, config.vocabSize)
    expect(maxDiff(await frugalLogProbs(config, weights, ids), theirs)).toBeLessThan(1e-4)
    await model.dispose()
  })

  it('QK-norm and wider heads (Qwen3), as llama.cpp qwen3; heads of another width in llama: the same distributions', async () => {
    const ids = Array.from(bpe.encode(prompt))
    for (const [extra, arch] of [
      [{ qkNorm: true, headDim: 48, heads: 4, kvHeads: 2 }, 'qwen3'],
      [{ headDim: 16 }, 'llama'],
    ] as const) {
      const { config, weights, model, path } = await exported(bpe, 'f32', extra)
      expect((await readGgufFileInfo(path)).metadata.general.architecture).toBe(arch)
      const theirs = await llamaLogProbs(model, ids, config.vocabSize)
      expect(maxDiff(await frugalLogProbs(config, weights, ids), theirs)).toBeLessThan(1e-4)
      await model.dispose()
    }
  })

  it("Llama 3's RoPE scaling, as llama.cpp's rope_freqs: the same distributions at every position", async () => {
    // A short original context, so the scaling changes the rotations within the prompt.
    const ropeScaling = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 32 }
    const { config, weights, model, path } = await exported(bpe, 'f32', { ropeScaling })
    const info = await readGgufFileInfo(path)
    expect(info.fullTensorInfo!.some((t) => t.name === 'rope_freqs.weight')).toBe(true)
    const ids = Array.from(bpe.encode(prompt))
    const V = config.vocabSize
    const ours = await frugalLogProbs(config, weights, ids)
    expect(maxDiff(ours, await llamaLogProbs(model, ids, V))).toBeLessThan(1e-4)
    // Without its scaling the model is another one: the check can tell them apart.
    const unscaled = await frugalLogProbs({ ...config, ropeScaling: null }, weights, ids)
    expect(maxDiff(ours, unscaled)).toBeGreaterThan(1e-2)
    await model.dispose()
  })

  it("a character tokenizer as llama.cpp's SentencePiece pieces: same ids, same distributions", async () => {
    const { config, weights, model } = await exported(chars, 'f32')
    const ids = Array.from(chars.encode(prompt))
    expect(model.tokenize(prompt)).toEqual(ids)
    expect(model.detokenize(tokens(ids))).toBe(prompt)
    const theirs = await llamaLogProbs(model, ids, config.vocabSize)
    expect(maxDiff(await frugalLogProbs(config, weights, ids), theirs)).toBeLessThan(1e-4)
    await model.dispose()
  })
})

describe('GGUF export of MoE models as llama.cpp glm4moe', () => {
  const variants: Record<string, Partial<ModelConfigInput>> = {
    'softmax top-2, normalized, a shared expert, a leading dense layer, grouped-query': {
      heads: 4,
      kvHeads: 2,
      moe: { routedExperts: 4, topK: 2, sharedExperts: 1, firstDenseLayers: 1 },
    },
    "DeepSeek-V3's sigmoid with the balancing bias, routed scale, no shared expert": {
      moe: {
        routedExperts: 4,
        topK: 2,
        sharedExperts: 0,
        firstDenseLayers: 0,
        affinity: 'sigmoid',
        balance: 'aux-free',
        routeScale: 2.5,
      },
    },
    'q, k and v biases, QK-norm, wider heads': {
      attentionBias: true,
      qkNorm: true,
      headDim: 48,
      moe: { routedExperts: 4, topK: 2, sharedExperts: 1, firstDenseLayers: 1 },
    },
    'top-1, unnormalized, two shared experts, shared layers': {
      shareGroupSize: 2,
      layers: 4,
      moe: {
        routedExperts: 4,
        topK: 1,
        sharedExperts: 2,
        firstDenseLayers: 2,
        normalizeWeights: false,
      },
    },
  }
  for (const [name, extra] of Object.entries(variants))
    it(`${name}: the same distributions in llama.cpp`, async () => {
      const { config, weights } = randomModel(bpe.vocabSize, extra)
      // The balancing bias starts at zero; give it values so the choice depends on it.
      for (const [n, v] of weights)
        if (n.endsWith('router.bias')) v.set(Array.from(v, (_, e) => ((e % 3) - 1) * 0.05))
      const { metadata, tensors } = ggufModel(config, weights, bpe, { dtype: 'f32', name })
      const path = join(dir, `moe-${Object.keys(variants).indexOf(name)}.gguf`)
      writeGguf(path, metadata, tensors)
      const model = await llama.loadModel({ modelPath: path })
      try {
        const ids = Array.from(bpe.encode(prompt))
        const theirs = await llamaLogProbs(model, ids, config.vocabSize)
        expect(maxDiff(await frugalLogProbs(config, weights, ids), theirs)).toBeLessThan(1e-4)
      } finally {
        await model.dispose()
      }
    })
})

describe('GGUF export refuses what llama.cpp would compute differently', () => {
  const refused = (extra: Partial<ModelConfigInput>) => {
    const { config, weights } = randomModel(bpe.vocabSize, extra)
    return () => ggufModel(config, weights, bpe, { dtype: 'f32', name: 'x' })
  }
  it('top-p routing, a sliding window, global tokens: each with its reason', () => {
    expect(refused({ moe: { routedExperts: 4, topK: 2, routing: 'topp' } })).toThrow(/top-p/)
    expect(refused({ attentionWindow: 16 })).toThrow(/sliding window of 16 tokens/)
    expect(refused({ globalTokens: 2, attentionWindow: 16 })).toThrow(/window/)
    expect(refused({ qkNorm: true, attentionBias: true })).toThrow(/qwen3 architecture/)
    const ropeScaling = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 32 }
    expect(refused({ attentionBias: true, ropeScaling })).toThrow(/only in its llama architecture/)
  })

  it('a write that fails midway leaves no file', () => {
    const { config, weights } = randomModel(bpe.vocabSize)
    const { metadata, tensors } = ggufModel(config, weights, bpe, { dtype: 'f32', name: 'x' })
    // A tensor the file system cannot take (as a disk error would, after the header).
    const broken = { length: 64 } as unknown as Uint8Array
    const path = join(dir, 'broken.gguf')
    expect(() =>
      writeGguf(path, metadata, [...tensors, { name: 'x', dims: [16], type: 0, data: broken }]),
    ).toThrow()
    expect(existsSync(path)).toBe(false)
    expect(readdirSync(dir).filter((f) => f.startsWith('broken'))).toEqual([])
  })
})
