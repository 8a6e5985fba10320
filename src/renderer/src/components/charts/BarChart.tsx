import './charts.css'

export interface Bar {
  key: string
  label: string
  value: number
  /** A second value stacked after the first (e.g. "sent to review" after "removed"). */
  extra?: number
  onSelect?: () => void
}

interface BarChartProps {
  bars: readonly Bar[]
  /** What the values count, for the accessible name and the legend. */
  unit: string
  extraLabel?: string
  valueLabel?: string
  caption: string
  format?: (n: number) => string
}

/**
 * Horizontal bars with their numbers: a table underneath, so screen readers and
 * keyboard users get every value; bars with `onSelect` are buttons.
 */
export function BarChart({
  bars,
  unit,
  extraLabel,
  valueLabel,
  caption,
  format = String,
}: BarChartProps) {
  const max = Math.max(1, ...bars.map((b) => b.value + (b.extra ?? 0)))
  return (
    <figure className="bar-chart" aria-label={caption}>
      {extraLabel && (
        <figcaption className="chart-legend">
          <span className="swatch" data-series="main" /> {valueLabel ?? unit}
          <span className="swatch" data-series="extra" /> {extraLabel}
        </figcaption>
      )}
      <table>
        <tbody>
          {bars.map((b) => {
            const total = b.value + (b.extra ?? 0)
            const label = b.onSelect ? (
              <button type="button" className="link-button" onClick={b.onSelect}>
                {b.label}
              </button>
            ) : (
              b.label
            )
            return (
              <tr key={b.key}>
                <th scope="row">{label}</th>
                <td className="bar-cell" aria-hidden>
                  <div className="bar-track">
                    <div
                      className="bar"
                      data-series="main"
                      style={{ width: `${(b.value / max) * 100}%` }}
                    />
                    {b.extra ? (
                      <div
                        className="bar"
                        data-series="extra"
                        style={{ width: `${(b.extra / max) * 100}%` }}
                      />
                    ) : null}
                  </div>
                </td>
                <td className="num">
                  {format(total)}
                  {b.extra ? (
                    <span className="visually-hidden">
                      {' '}
                      ({format(b.value)} {valueLabel ?? unit}, {format(b.extra)} {extraLabel})
                    </span>
                  ) : null}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </figure>
  )
}
