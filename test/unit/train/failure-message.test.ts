import { describe, expect, it } from 'vitest'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { trainConfigSchema } from '../../../src/worker/train/config'
import { explainFailure } from '../../../src/worker/train/run'

const model = modelConfigSchema.parse({ vocabSize: 512, contextLength: 256 })

describe('what a run that fails in the engine tells the user', () => {
  it("turns the wasm backend's bare abort into the memory advice", () => {
    // What tfjs's wasm backend throws when its allocator fails (bench/lora.ts, a 135M model).
    const abort = new Error('Aborted(). Build with -sASSERTIONS for more info.')
    const full = explainFailure(abort, model, trainConfigSchema.parse({ batchSize: 8 }))
    expect(full).toBe(
      'The wasm backend stopped (Aborted()), which on this backend means its memory ran out: it has at most 4 GB. Try a smaller batch size (now 8) with gradient accumulation, a shorter context (now 256), or gradient checkpointing, or train low-rank adapters (LoRA) instead of every weight.',
    )
    const lora = explainFailure(
      abort,
      model,
      trainConfigSchema.parse({ batchSize: 8, gradientCheckpointing: true, lora: {} }),
    )
    expect(lora).toContain(
      'or gradient checkpointing (already on), or hold the frozen weights in int8 (train.lora.int8Base).',
    )
    expect(lora).not.toContain('train low-rank adapters')
    const int8 = explainFailure(
      abort,
      model,
      trainConfigSchema.parse({
        batchSize: 8,
        gradientCheckpointing: true,
        lora: { int8Base: true },
      }),
    )
    expect(int8).toContain('or gradient checkpointing (already on).')
  })

  it('passes other failures through as they are', () => {
    const err = new Error('The checkpoint has no parameter layers.0.attn.q.')
    expect(explainFailure(err, model, trainConfigSchema.parse({}))).toBe(err.message)
  })
})
