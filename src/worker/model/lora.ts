import type { LoraConfig, LoraTarget } from '../../shared/config/train'
import type { ModelConfig } from './config'
import { isMoeSet, names, paramSpecs, weightSets, type ParamSpec } from './params'
import type { Rng } from '../../shared/rng'

export type { LoraConfig, LoraTarget }

/**
 * Low-rank adapters (LoRA): which weights get one, what they are called, how they start
 * and how they fold back into their weights. An adapter of weight `….weight` (in, out) is
 * `….lora_A` (in, r) and `….lora_B` (r, out), so each sits beside its weight by name (as in
 * PEFT, whose layout export writes).
 */
export const adapterNames = (weight: string) => {
  const stem = weight.replace(/\.weight$/, '')
  return { a: `${stem}.lora_A`, b: `${stem}.lora_B` }
}

/** Whether a parameter is an adapter's (and so is what a LoRA run trains and saves). */
export const isAdapterName = (name: string) => /\.lora_[AB]$/.test(name)

/** The weights the chosen targets adapt, in parameter order. */
export function adaptedWeights(c: ModelConfig, targets: readonly LoraTarget[]): string[] {
  const want = new Set(targets)
  const out: string[] = []
  for (let s = 0; s < weightSets(c); s++) {
    if (want.has('attention')) out.push(names.q(s), names.k(s), names.v(s), names.attnOut(s))
    if (isMoeSet(c, s) && c.moe) {
      if (want.has('experts'))
        for (let e = 0; e < c.moe.routedExperts; e++)
          out.push(names.expertGate(s, e), names.expertUp(s, e), names.expertDown(s, e))
      // Shared experts see every token, like a dense MLP: they go with it.
      if (want.has('mlp') && c.moe.sharedExperts > 0)
        out.push(names.sharedGate(s), names.sharedUp(s), names.sharedDown(s))
    } else if (want.has('mlp')) {
      out.push(names.gate(s), names.up(s), names.down(s))
    }
  }
  return out
}

/** The adapters' parameters: A (in, r) and B (r, out) per adapted weight. */
export function adapterSpecs(c: ModelConfig, lora: LoraConfig): ParamSpec[] {
  const shapes = new Map(paramSpecs(c).map((s) => [s.name, s.shape]))
  return adaptedWeights(c, lora.targets).flatMap((w) => {
    const [input, output] = shapes.get(w)!
    const { a, b } = adapterNames(w)
    const spec = (name: string, shape: number[], init: 'normal' | 'zeros'): ParamSpec => ({
      name,
      shape,
      init,
      decay: true,
      trainable: true,
    })
    return [spec(a, [input, lora.rank], 'normal'), spec(b, [lora.rank, output], 'zeros')]
  })
}

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
 * Base weights with the adapters folded in, W' = W + (α/r)·A·B: the model a LoRA run
 * trained, as one set of plain weights (what inference, export and later runs read).
 * Adapter tensors are not in the result.
 */
export function mergeAdapters(
  c: ModelConfig,
  lora: LoraConfig,
  base: ReadonlyMap<string, Float32Array>,
  adapters: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  const out = new Map([...base].filter(([name]) => !isAdapterName(name)))
  const shapes = new Map(paramSpecs(c).map((s) => [s.name, s.shape]))
  const scale = adapterScale(lora)
  const r = lora.rank
  for (const w of adaptedWeights(c, lora.targets)) {
    const { a, b } = adapterNames(w)
    const A = adapters.get(a)
    const B = adapters.get(b)
    const W = base.get(w)
    if (!A || !B || !W) throw new Error(`The adapter of ${w} (or its weight) is missing.`)
    const [input, output] = shapes.get(w)!
    const merged = Float32Array.from(W)
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
