import type { LoraConfig, LoraTarget } from './train'
import type { ModelConfig } from './model'
import { isMoeSet, names, paramSpecs, weightSets, type ParamSpec } from './params'

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

/** Parameters the adapters add, and those of the weights they adapt (what int8 may hold). */
export function adapterCounts(
  c: ModelConfig,
  lora: LoraConfig,
): { adapters: number; adapted: number } {
  const shapes = new Map(paramSpecs(c).map((s) => [s.name, s.shape]))
  let adapted = 0
  for (const w of adaptedWeights(c, lora.targets)) {
    const [input, output] = shapes.get(w)!
    adapted += input * output
  }
  const adapters = adapterSpecs(c, lora).reduce((n, s) => n + s.shape[0] * s.shape[1], 0)
  return { adapters, adapted }
}
