import './charts.css'

export interface HistogramBin {
  from: number
  to: number
  count: number
}

interface HistogramProps {
  bins: readonly HistogramBin[]
  caption: string
  /** Bins inside [from, to) are marked, e.g. the quality model's review band. */
  highlight?: { from: number; to: number; label: string }
  xLabel: string
  format?: (n: number) => string
}

/** Vertical bars over [0, 1] with an optional marked band; the counts are in a hidden table. */
export function Histogram({ bins, caption, highlight, xLabel, format = String }: HistogramProps) {
  const max = Math.max(1, ...bins.map((b) => b.count))
  const inBand = (b: HistogramBin) =>
    !!highlight && b.from >= highlight.from - 1e-9 && b.to <= highlight.to + 1e-9
  return (
    <figure className="histogram" aria-label={caption}>
      <div className="histogram-bars" aria-hidden>
        {bins.map((b) => (
          <div
            key={b.from}
            className="histogram-bar"
            data-band={inBand(b)}
            style={{ height: `${(b.count / max) * 100}%` }}
            title={`${b.from.toFixed(2)}–${b.to.toFixed(2)}: ${format(b.count)}`}
          />
        ))}
      </div>
      <div className="histogram-axis" aria-hidden>
        <span>0</span>
        <span>{xLabel}</span>
        <span>1</span>
      </div>
      {highlight && (
        <figcaption className="chart-legend">
          <span className="swatch" data-series="band" /> {highlight.label}
        </figcaption>
      )}
      <table className="visually-hidden">
        <caption>{caption}</caption>
        <tbody>
          {bins.map((b) => (
            <tr key={b.from}>
              <th scope="row">
                {b.from.toFixed(2)} to {b.to.toFixed(2)}
              </th>
              <td>{b.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  )
}
