import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { useThemeVersion } from './useThemeVersion'

export interface ChartSeries {
  label: string
  /** CSS colour; defaults to the accent colour. */
  color?: string
  unit?: string
  /** Draw points (for sparse series such as validation loss). */
  points?: boolean
  /** Dash pattern, e.g. [6, 4]. */
  dash?: number[]
}

interface TimeSeriesChartProps {
  /** Column-major: data[0] holds the x values, data[i + 1] the values of series[i]. */
  data: readonly (readonly (number | null)[])[]
  series: readonly ChartSeries[]
  xLabel: string
  height?: number
  logScale?: boolean
  /** Accessible summary, e.g. the latest value. */
  summary: string
}

/** Read a design token so charts follow the theme. */
function token(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim()
}

/**
 * Y tick labels with as many decimals as the tick spacing needs (uPlot's default rounds
 * 0.0005 to "0.001"), exponents for very small or large values, plain numbers on log axes.
 */
export function tickLabels(splits: number[], log = false): string[] {
  if (log) return splits.map((v) => (v === 0 ? '0' : Number(v.toPrecision(2)).toString()))
  const magnitude = Math.max(...splits.map(Math.abs))
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : magnitude || 1
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e7)) {
    const digits = Math.min(4, Math.max(0, Math.round(Math.log10(magnitude / step))))
    return splits.map((v) => (v === 0 ? '0' : v.toExponential(digits)))
  }
  const decimals = Math.min(8, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)))
  return splits.map((v) =>
    v.toLocaleString('en', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }),
  )
}

/**
 * Line chart on uPlot: canvas-based and fast for long series (hundreds of thousands of
 * points), which training curves need. Recreated on theme or series change, otherwise
 * only its data is swapped.
 */
export function TimeSeriesChart({
  data,
  series,
  xLabel,
  height = 220,
  logScale = false,
  summary,
}: TimeSeriesChartProps) {
  const container = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const theme = useThemeVersion()
  const seriesKey = series
    .map((s) => `${s.label}:${s.color ?? ''}:${s.points ?? ''}:${s.dash?.join(',') ?? ''}`)
    .join('|')

  useEffect(() => {
    const el = container.current
    if (!el) return
    const axis = {
      stroke: token('--chart-axis'),
      grid: { stroke: token('--chart-grid'), width: 1 },
      ticks: { show: false },
    }
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      scales: { x: { time: false }, y: logScale ? { distr: 3 } : {} },
      // The legend names the x values already; an axis title would only take height.
      axes: [
        axis,
        { ...axis, values: (_u: uPlot, splits: number[]) => tickLabels(splits, logScale) },
      ],
      series: [
        { label: xLabel },
        ...series.map((s) => ({
          label: s.label,
          // Canvas strokes cannot read CSS variables: resolve var(--x) to its value.
          stroke: s.color?.startsWith('var(')
            ? token(s.color.slice(4, -1))
            : (s.color ?? token('--accent')),
          width: 1.5,
          spanGaps: true,
          ...(s.dash ? { dash: s.dash } : {}),
          points: { show: s.points ?? false, size: 5 },
        })),
      ],
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
    }
    plot.current = new uPlot(opts, data as uPlot.AlignedData, el)
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: el.clientWidth, height }),
    )
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.current?.destroy()
      plot.current = null
    }
    // Data updates are applied below without rebuilding the chart.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seriesKey, height, logScale, xLabel, theme])

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData)
  }, [data])

  return (
    <figure className="chart" aria-label={summary} style={{ margin: 0 }}>
      <div ref={container} />
      <figcaption className="visually-hidden">{summary}</figcaption>
    </figure>
  )
}
