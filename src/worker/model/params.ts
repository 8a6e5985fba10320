import type { ModelConfig } from './config'
import { paramSpecs } from '../../shared/config/params'
import type { Rng } from '../../shared/rng'

export * from '../../shared/config/params'

/** Initial values, drawn in spec order from `rng`: the same seed gives the same model. */
export function initialValues(c: ModelConfig, rng: Rng): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>()
  // GPT-2: residual projections scaled so the residual stream's variance does not grow with depth.
  const scaledStd = c.initStd / Math.sqrt(2 * c.layers)
  for (const spec of paramSpecs(c)) {
    const size = spec.shape.reduce((a, b) => a * b, 1)
    let v: Float32Array
    if (spec.init === 'ones') v = new Float32Array(size).fill(1)
    else if (spec.init === 'zeros') v = new Float32Array(size)
    else v = rng.normalArray(size, spec.init === 'normal-scaled' ? scaledStd : c.initStd)
    values.set(spec.name, v)
  }
  return values
}
