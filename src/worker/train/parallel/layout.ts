import type { ParamSpec } from '../../model/params'

/** Where each parameter lives in a flat Float32Array shared between threads. */
export interface FlatLayout {
  offsets: Map<string, number>
  sizes: Map<string, number>
  total: number
}

export function flatLayout(specs: readonly ParamSpec[]): FlatLayout {
  const offsets = new Map<string, number>()
  const sizes = new Map<string, number>()
  let total = 0
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1)
    offsets.set(s.name, total)
    sizes.set(s.name, size)
    total += size
  }
  return { offsets, sizes, total }
}

/** Split B sequences into n contiguous shards as evenly as possible: sizes, in order. */
export function shardSizes(B: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(B / n) + (i < B % n ? 1 : 0))
}
