import { useEffect, useRef } from 'react'
import type { ExpertLoad } from '../../../../shared/runs'
import { useThemeVersion } from '../../components/charts/useThemeVersion'

/** Diverging colour for load relative to a perfectly balanced share: blue under, red over. */
function color(ratio: number): [number, number, number] {
  // log2 ratio, clamped to ±2 (a quarter to four times the fair share).
  const t = Math.max(-1, Math.min(1, Math.log2(Math.max(ratio, 1e-6)) / 2))
  const neutral: [number, number, number] = [236, 238, 242]
  const hot: [number, number, number] = [201, 42, 42]
  const cold: [number, number, number] = [59, 91, 219]
  const target = t > 0 ? hot : cold
  const a = Math.abs(t)
  return [0, 1, 2].map((i) => Math.round(neutral[i] + (target[i] - neutral[i]) * a)) as [
    number,
    number,
    number,
  ]
}

/**
 * Each MoE layer's expert load over time: one band per layer, one row per expert, one
 * column per sampled step. Red is an overloaded expert, blue an idle one; a balanced
 * router is a flat grey. Drawn pixel by pixel on a canvas, scaled to fit.
 */
export function ExpertHeatmap({ data }: { data: ExpertLoad }) {
  const canvas = useRef<HTMLCanvasElement>(null)
  const theme = useThemeVersion()
  const E = data.experts
  const cols = data.steps.length
  const rows = data.layers.length * (E + 1) - 1 // a blank row between layers

  useEffect(() => {
    const c = canvas.current
    if (!c || cols === 0 || E === 0) return
    c.width = cols
    c.height = rows
    const ctx = c.getContext('2d')!
    const img = ctx.createImageData(cols, rows)
    data.layers.forEach((_, li) => {
      const samples = data.load[li] ?? []
      samples.forEach((shares, x) => {
        shares.forEach((share, e) => {
          const [r, g, b] = color(share * E)
          const y = li * (E + 1) + e
          const o = (y * cols + x) * 4
          img.data[o] = r
          img.data[o + 1] = g
          img.data[o + 2] = b
          img.data[o + 3] = 255
        })
      })
    })
    ctx.putImageData(img, 0, 0)
  }, [data, cols, rows, E, theme])

  if (cols === 0)
    return (
      <p className="muted small">The expert load appears after the first steps of a MoE run.</p>
    )
  const last = data.load.map((layer) => layer.at(-1) ?? [])
  const imbalance = last.map((s) => (s.length ? Math.max(...s) * E : 0))
  return (
    <figure className="heatmap" style={{ margin: 0 }}>
      <div className="heatmap-body">
        <div className="heatmap-labels" aria-hidden>
          {data.layers.map((l) => (
            <span key={l} style={{ flexGrow: E }}>
              L{l}
            </span>
          ))}
        </div>
        <canvas
          ref={canvas}
          className="heatmap-canvas"
          role="img"
          aria-label={`Expert load over ${cols} steps for ${data.layers.length} MoE layers`}
        />
      </div>
      <figcaption className="muted small">
        Steps {data.steps[0]}–{data.steps.at(-1)}. Share of each expert against a fair 1/{E}: red
        overloaded, blue idle. Latest max/mean load:{' '}
        {data.layers.map((l, i) => `L${l} ${imbalance[i].toFixed(2)}`).join(', ')}.
      </figcaption>
    </figure>
  )
}
