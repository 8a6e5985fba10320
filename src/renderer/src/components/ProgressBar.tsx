interface ProgressBarProps {
  /** 0..1, or null when the total is unknown (an animated bar). */
  fraction: number | null
  label: string
  className?: string
}

export function ProgressBar({ fraction, label, className }: ProgressBarProps) {
  const percent = fraction === null ? undefined : Math.round(fraction * 100)
  return (
    <div
      className={['progress', className].filter(Boolean).join(' ')}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      data-indeterminate={fraction === null}
    >
      <div
        className="progress-fill"
        style={percent === undefined ? undefined : { width: `${percent}%` }}
      />
    </div>
  )
}
