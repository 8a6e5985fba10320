import type { MetricSeries } from '../../../../shared/runs'

/** Column-major data for uPlot: one shared x axis, one column per series, null where absent. */
export type Aligned = [number[], ...(number | null)[][]]

/** Put several series on the union of their steps. */
export function align(series: (MetricSeries | undefined)[]): Aligned {
  const steps = new Set<number>()
  for (const s of series) s?.step.forEach((x) => steps.add(x))
  const xs = [...steps].sort((a, b) => a - b)
  const index = new Map(xs.map((x, i) => [x, i]))
  const columns = series.map((s) => {
    const col = new Array<number | null>(xs.length).fill(null)
    s?.step.forEach((x, i) => (col[index.get(x)!] = s.value[i]!))
    return col
  })
  return [xs, ...columns]
}

/**
 * Exponential moving average with bias correction (TensorBoard's smoothing): 0 leaves the
 * series as is, 0.99 is very smooth. Nulls stay null.
 */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values
  let last = 0
  let n = 0
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v
    last = last * weight + (1 - weight) * v
    n++
    return last / (1 - weight ** n)
  })
}
