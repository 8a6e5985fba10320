import type { LoraConfig, LoraTarget } from '../../shared/config/train'
import type { ModelConfig } from './config'
import { adapterNames, adaptedWeights, adapterSpecs, isAdapterName } from '../../shared/config/lora'
import { paramSpecs } from './params'
import type { Rng } from '../../shared/rng'
import { roundedWeight } from './layers/int8-weight'

/** Which weights get adapters and what they are called: defined in src/shared (the estimate needs them too). */
export * from '../../shared/config/lora'
export type { LoraConfig, LoraTarget }

/**
 * Initial adapters: A uniform in ±1/√in (PEFT's Kaiming-uniform bound), B zero, so the
 * adapted model starts exactly as its base and A·B grows from there.
 */
export function initialAdapters(
  c: ModelConfig,
  lora: LoraConfig,
  rng: Rng,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  for (const spec of adapterSpecs(c, lora)) {
    const size = spec.shape[0] * spec.shape[1]
    if (spec.init === 'zeros') {
      out.set(spec.name, new Float32Array(size))
      continue
    }
    const bound = 1 / Math.sqrt(spec.shape[0])
    out.set(
      spec.name,
      Float32Array.from({ length: size }, () => (2 * rng.next() - 1) * bound),
    )
  }
  return out
}

/** The factor the adapter's product is scaled by: α/r. */
export const adapterScale = (lora: Pick<LoraConfig, 'alpha' | 'rank'>) => lora.alpha / lora.rank

/**
 * The frozen weights as a LoRA run sees them: with `int8Base`, each adapted weight
 * rounded as int8 holds it (per output column); otherwise the weights themselves.
 */
export function frozenBase(
  c: ModelConfig,
  lora: Pick<LoraConfig, 'targets' | 'int8Base'>,
  base: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  const out = new Map(base)
  if (!lora.int8Base) return out
  const shapes = new Map(paramSpecs(c).map((s) => [s.name, s.shape]))
  for (const w of adaptedWeights(c, lora.targets)) {
    const values = base.get(w)
    if (values) out.set(w, roundedWeight(values, shapes.get(w)!))
  }
  return out
}

/**
 * Base weights with the adapters folded in, W' = W + (α/r)·A·B: the model a LoRA run
 * trained, as one set of plain weights (what inference, export and later runs read).
 * W is the frozen base as the run saw it (`frozenBase`: rounded with `int8Base`).
 * Adapter tensors are not in the result.
 */
export function mergeAdapters(
  c: ModelConfig,
  lora: LoraConfig,
  base: ReadonlyMap<string, Float32Array>,
  adapters: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  const out = new Map([...frozenBase(c, lora, base)].filter(([name]) => !isAdapterName(name)))
  const shapes = new Map(paramSpecs(c).map((s) => [s.name, s.shape]))
  const scale = adapterScale(lora)
  const r = lora.rank
  for (const w of adaptedWeights(c, lora.targets)) {
    const { a, b } = adapterNames(w)
    const A = adapters.get(a)
    const B = adapters.get(b)
    const W = out.get(w)
    if (!A || !B || !W) throw new Error(`The adapter of ${w} (or its weight) is missing.`)
    const [input, output] = shapes.get(w)!
    const merged = W === base.get(w) ? Float32Array.from(W) : W
    for (let i = 0; i < input; i++) {
      const row = i * output
      for (let k = 0; k < r; k++) {
        const aik = A[i * r + k] * scale
        if (aik === 0) continue
        const bRow = k * output
        for (let j = 0; j < output; j++) merged[row + j] += aik * B[bRow + j]
      }
    }
    out.set(w, merged)
  }
  return out
}
