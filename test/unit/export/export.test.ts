import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { Decoder } from '../../../src/worker/infer/decoder'
import { generate, generateOptionsSchema } from '../../../src/worker/infer/generate'
import { loadCheckpoint, toParams } from '../../../src/worker/infer/load'
import { exportCheckpoint } from '../../../src/worker/export/export'
import { fromBfloat16, fromFloat16, toBfloat16, toFloat16 } from '../../../src/worker/export/floats'
import { configFromHf, fromHfTensors, type HfTensor } from '../../../src/worker/export/hf'
import { dequantizeRows, quantizeRows } from '../../../src/worker/export/quantize'
import {
  readSafetensors,
  toFloat32,
  writeSafetensors,
  bytesOf,
} from '../../../src/worker/export/safetensors'
import { fromJSON } from '../../../src/worker/tokenizer'
import { formats, quantizeScalar } from '../../../src/worker/train/precision'
import { setupTf } from '../../helpers/tfjs'
import { useTempDir } from '../../helpers/temp'
import { trainedProject } from '../../helpers/trained-project'

const tempDir = useTempDir('frugal-export-')

beforeAll(async () => {
  await setupTf()
})

describe('reduced-precision encodings', () => {
  it('bf16 and fp16 bits round exactly as the training emulation does', () => {
    let s = 12345
    const values = Float32Array.from({ length: 20_000 }, (_, i) => {
      s = (s * 1103515245 + 12345) >>> 0
      const scale = 2 ** ((i % 60) - 30)
      return ((s / 2 ** 32) * 2 - 1) * scale
    })
    const bf = fromBfloat16(toBfloat16(values))
    const hf = fromFloat16(toFloat16(values))
    for (let i = 0; i < values.length; i++) {
      expect(bf[i]).toBe(quantizeScalar(values[i], formats.bf16))
      expect(hf[i]).toBe(quantizeScalar(values[i], formats.fp16))
    }
    expect([...fromFloat16(toFloat16(Float32Array.from([65504, 70000, -1e-8, 6e-8])))]).toEqual([
      65504,
      Infinity,
      -0,
      quantizeScalar(6e-8, formats.fp16),
    ])
  })

  it('int8 per channel: each row within half a step of its own scale', () => {
    const rows = 3
    const cols = 5
    const w = Float32Array.from([0.1, -0.2, 0.05, 0, 0.3, 10, -20, 5, 0, 1, 0, 0, 0, 0, 0])
    const q = quantizeRows(w, rows, cols)
    expect([...q.scales]).toEqual([0.3 / 127, 20 / 127, 1].map((x) => Math.fround(x)))
    const back = dequantizeRows(q, rows, cols)
    for (let i = 0; i < w.length; i++)
      expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(
        q.scales[Math.floor(i / cols)] / 2 + 1e-7,
      )
  })
})

describe('safetensors', () => {
  it('writes files that an independent reader (Python, standard library only) parses', () => {
    const path = join(tempDir(), 'x.safetensors')
    const a = Float32Array.from([1.5, -2, 3.25, 0, 1e-3, 7])
    writeSafetensors(
      path,
      new Map([
        ['b.weight', { dtype: 'BF16', shape: [2, 3], data: bytesOf(toBfloat16(a)) }],
        ['a.weight', { dtype: 'F32', shape: [3, 2], data: bytesOf(a) }],
        ['c.weight', { dtype: 'F16', shape: [6], data: bytesOf(toFloat16(a)) }],
        [
          'd.weight',
          { dtype: 'I8', shape: [2, 2], data: bytesOf(Int8Array.from([-127, 0, 5, 127])) },
        ],
      ]),
      { format: 'pt' },
    )
    const script = String.raw`
import json, struct, sys
data = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', data[:8])[0]
assert n % 8 == 0, 'header not aligned'
header = json.loads(data[8:8 + n])
body = data[8 + n:]
sizes = {'F32': 4, 'F16': 2, 'BF16': 2, 'I8': 1}
out = {'metadata': header.pop('__metadata__'), 'tensors': {}}
end = 0
for name, t in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
    b, e = t['data_offsets']
    assert b == end, 'gap or overlap'
    count = 1
    for d in t['shape']: count *= d
    assert e - b == count * sizes[t['dtype']], 'size'
    raw = body[b:e]
    if t['dtype'] == 'F32': vals = list(struct.unpack('<%df' % count, raw))
    elif t['dtype'] == 'F16': vals = list(struct.unpack('<%de' % count, raw))
    elif t['dtype'] == 'BF16': vals = [struct.unpack('<f', struct.pack('<I', h << 16))[0] for h in struct.unpack('<%dH' % count, raw)]
    else: vals = list(struct.unpack('<%db' % count, raw))
    out['tensors'][name] = {'dtype': t['dtype'], 'shape': t['shape'], 'values': vals}
    end = e
assert end == len(body), 'trailing bytes'
print(json.dumps(out))
`
    const r = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    const parsed = JSON.parse(r.stdout) as {
      metadata: Record<string, string>
      tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>
    }
    expect(parsed.metadata).toEqual({ format: 'pt' })
    expect(parsed.tensors['a.weight']).toEqual({ dtype: 'F32', shape: [3, 2], values: [...a] })
    expect(parsed.tensors['b.weight'].values).toEqual([...fromBfloat16(toBfloat16(a))])
    expect(parsed.tensors['c.weight'].values).toEqual([...fromFloat16(toFloat16(a))])
    expect(parsed.tensors['d.weight'].values).toEqual([-127, 0, 5, 127])
    // And our own reader agrees, and refuses a truncated file.
    const back = readSafetensors(path)
    expect([...toFloat32(back.tensors.get('a.weight')!)]).toEqual([...a])
    writeFileSync(path, readFileSync(path).subarray(0, 100))
    expect(() => readSafetensors(path)).toThrow(/not a valid safetensors file/)
  })
})

describe('Hugging Face export of a trained checkpoint', () => {
  it(
    'reloads to the same logits and the same greedy text (fp32), and a q8_0 GGUF measures what 8 bits cost',
    { timeout: 180_000 },
    async () => {
      const dir = tempDir()
      const { db, runId } = trainedProject(dir)
      const store = Store.open(db)
      const out = join(dir, 'export-fp32')
      const result = await exportCheckpoint(store, { runId, out, dtype: 'fp32' })
      expect(result.files).toEqual([
        'README.md',
        'config.json',
        'generation_config.json',
        'model.safetensors',
        'tokenizer.json',
        'tokenizer_config.json',
      ])
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<
        string,
        unknown
      >
      expect(config).toMatchObject({
        architectures: ['DeepseekForCausalLM'],
        n_routed_experts: 4,
        n_shared_experts: 1,
        num_experts_per_tok: 2,
        first_k_dense_replace: 1,
        scoring_func: 'sigmoid',
        topk_method: 'noaux_tc',
        tie_word_embeddings: true,
      })

      // Reload from the folder alone and compare with the checkpoint in the project.
      const original = loadCheckpoint(store, runId)
      const file = readSafetensors(join(out, 'model.safetensors'))
      const hf = new Map<string, HfTensor>()
      for (const [name, t] of file.tensors) hf.set(name, { shape: t.shape, values: toFloat32(t) })
      const reloadedConfig = configFromHf(config)
      const weights = fromHfTensors(reloadedConfig, hf)
      for (const [name, values] of original.weights)
        expect([...weights.get(name)!]).toEqual([...values])
      const tokenizer = fromJSON(readFileSync(join(out, 'tokenizer.json'), 'utf8'))
      const ids = Array.from(tokenizer.encode('Shall I compare thee'))
      const a = new Decoder(original.config, toParams(original.config, original.weights))
      const b = new Decoder(reloadedConfig, toParams(reloadedConfig, weights))
      expect([...(await b.feed(ids))]).toEqual([...(await a.feed(ids))])
      const greedy = generateOptionsSchema.parse({ maxTokens: 40, temperature: 0 })
      expect((await generate(b, tokenizer, 'Shall I', greedy)).text).toBe(
        (await generate(a, original.tokenizer, 'Shall I', greedy)).text,
      )
      expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('# export-check')

      // bf16 halves the file; a q8_0 GGUF reports the validation perplexity with the
      // file's weights beside the float32 one: a small change, but a change.
      const bf16 = await exportCheckpoint(store, {
        runId,
        out: join(dir, 'export-bf16'),
        dtype: 'bf16',
      })
      expect(bf16.bytes).toBeLessThan(result.bytes * 0.6)
      const q8 = await exportCheckpoint(store, {
        runId,
        out: join(dir, 'model-q8_0.gguf'),
        format: 'gguf',
        dtype: 'q8_0',
      })
      expect(q8.quantization?.dtype).toBe('q8_0')
      const { fp32, quantized } = q8.quantization!
      expect(quantized.tokens).toBe(fp32.tokens)
      expect(quantized.loss).not.toBe(fp32.loss)
      expect(Math.abs(quantized.loss - fp32.loss)).toBeLessThan(0.1)
      const f16 = await exportCheckpoint(store, {
        runId,
        out: join(dir, 'model-f16.gguf'),
        format: 'gguf',
        dtype: 'fp16',
      })
      expect(f16.quantization).toBeNull()
      await expect(exportCheckpoint(store, { runId, out, dtype: 'fp32' })).rejects.toThrow(
        /not empty/,
      )
      for (const d of [a, b]) d.dispose()
      store.close()
    },
  )
})
