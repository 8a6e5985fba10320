import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { expertLoad, runMetrics } from '../../../src/main/runs/metrics'
import { useTempDir } from '../../helpers/temp'
import { placeholderTokenizer } from '../../helpers/tokenizer-row'

const tmp = useTempDir()

function projectWithRun(): Store {
  const store = Store.create(join(tmp(), 'metrics.frugal'))
  const tokenizerId = placeholderTokenizer(store)
  store.runs.create(
    {
      id: 'r1',
      name: 'run',
      modelConfig: {},
      trainConfig: {},
      data: { datasetId: null, tokenizerId, valFraction: 0.1 },
      tokenSetId: null,
      parentRunId: null,
      parentCheckpointId: null,
    },
    '2026-12-06T00:00:00Z',
  )
  return store
}

describe("a run's charts, as the run page reads them", () => {
  it('downsamples a long curve to about maxPoints and keeps a one-step spike', () => {
    const store = projectWithRun()
    const points = Array.from({ length: 1000 }, (_, i) => ({
      name: 'train_loss',
      step: i + 1,
      value: i + 1 === 617 ? 99 : 5 - i / 1000,
    }))
    store.runs.addMetrics('r1', [...points, { name: 'energy_j', step: 1000, value: 42 }])
    const m = runMetrics(store, 'r1', ['train_loss'], 100)
    expect(m.lastStep).toBe(1000)
    expect(m.names).toEqual(['energy_j', 'train_loss'])
    const loss = m.series.train_loss
    expect(loss.step.length).toBeGreaterThan(50)
    expect(loss.step.length).toBeLessThanOrEqual(100)
    expect(loss.value[loss.step.indexOf(617)]).toBe(99)
    expect(Math.min(...loss.value)).toBeCloseTo(4.001, 6)
    expect(store.runs.latestMetric('r1', 'energy_j')).toBe(42)
    expect(store.runs.latestMetric('r1', 'missing')).toBeNull()
    store.close()
  })

  it("reads each MoE layer's expert load at evenly spaced steps", () => {
    const store = projectWithRun()
    const vectors = [0, 1].flatMap((layer) =>
      Array.from({ length: 40 }, (_, i) => ({
        name: `moe.load.L${layer}`,
        step: i + 1,
        value: Float32Array.from([layer, (i + 1) / 40, 0.5]),
      })),
    )
    store.runs.addMetrics('r1', [], vectors)
    const load = expertLoad(store, 'r1', 10)
    expect(load.layers).toEqual([0, 1])
    expect(load.experts).toBe(3)
    expect(load.steps).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40])
    expect(load.load[1][0]).toEqual([1, 0.10000000149011612, 0.5])
    store.close()
  })
})
