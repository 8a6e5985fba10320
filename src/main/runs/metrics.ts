import type { Store } from '../../store'
import type { ExpertLoad, MetricSeries, RunMetrics } from '../../shared/runs'

/**
 * A metric downsampled for display: the steps are cut into about maxPoints/2 buckets and
 * each keeps its minimum and its maximum point (SQLite returns the other columns of the
 * row that holds the MIN or MAX), so a spike stays visible at any zoom.
 */
function series(
  store: Store,
  runId: string,
  name: string,
  lastStep: number,
  maxPoints: number,
): MetricSeries {
  const bucket = Math.max(1, Math.ceil(lastStep / Math.max(1, Math.floor(maxPoints / 2))))
  if (bucket === 1) {
    const rows = store.runs.metric(runId, name)
    return { step: rows.map((r) => r.step), value: rows.map((r) => r.value) }
  }
  const points = new Map<number, number>()
  for (const r of [
    ...store.runs.metricExtremes(runId, name, bucket, 'MIN'),
    ...store.runs.metricExtremes(runId, name, bucket, 'MAX'),
  ])
    points.set(r.step, r.value)
  const steps = [...points.keys()].sort((a, b) => a - b)
  return { step: steps, value: steps.map((s) => points.get(s)!) }
}

export function runMetrics(
  store: Store,
  runId: string,
  names: readonly string[] | undefined,
  maxPoints: number,
): RunMetrics {
  const all = store.runs.metricNames(runId)
  const lastStep = store.runs.lastMetricStep(runId)
  const wanted = names ? all.filter((n) => names.includes(n)) : all
  return {
    names: all,
    lastStep,
    series: Object.fromEntries(
      wanted.map((n) => [n, series(store, runId, n, lastStep, maxPoints)]),
    ),
  }
}

/** Each MoE layer's expert load at up to maxPoints evenly spaced steps. */
export function expertLoad(store: Store, runId: string, maxPoints: number): ExpertLoad {
  const names = store.runs.vectorNames(runId, 'moe.load.L')
  const layers = names.map((n) => Number(n.slice('moe.load.L'.length))).sort((a, b) => a - b)
  if (layers.length === 0) return { layers: [], steps: [], experts: 0, load: [] }
  const lastStep = store.runs.lastVectorStep(runId)
  const stride = Math.max(1, Math.ceil(lastStep / maxPoints))
  let steps: number[] = []
  let experts = 0
  const load = layers.map((layer, i) => {
    const rows = store.runs.vectorsEvery(runId, `moe.load.L${layer}`, stride)
    if (i === 0) steps = rows.map((r) => r.step)
    return rows.map((r) => {
      experts = r.value.length
      return Array.from(r.value)
    })
  })
  return { layers, steps, experts, load }
}
