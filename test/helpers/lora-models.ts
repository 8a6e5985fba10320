import { modelConfigSchema } from '../../src/worker/model/config'

/** Small models the LoRA tests adapt: dense, and MoE with a shared expert. */
export const loraDense = modelConfigSchema.parse({
  vocabSize: 12,
  contextLength: 16,
  layers: 2,
  heads: 2,
  width: 16,
})

/** Host-routed experts (no capacity), or with a capacity: stacked experts on a GPU backend. */
export const loraMoe = (capacityFactor: number | null) =>
  modelConfigSchema.parse({
    vocabSize: 12,
    contextLength: 16,
    layers: 2,
    heads: 2,
    width: 16,
    moe: { routedExperts: 4, topK: 2, firstDenseLayers: 1, sharedExperts: 1, capacityFactor },
  })

/** The largest absolute difference between two arrays of one length. */
export const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)
