import type { RunStatus as Status } from '../../../../shared/runs'

const tone: Record<Status, string> = {
  created: 'default',
  running: 'accent',
  paused: 'warning',
  stopped: 'default',
  completed: 'success',
  failed: 'danger',
}

export function RunStatusBadge({ status }: { status: Status }) {
  return (
    <span className="badge" data-tone={tone[status]}>
      {status}
    </span>
  )
}

export const resumable = (s: Status) =>
  s === 'created' || s === 'paused' || s === 'stopped' || s === 'failed'

export function formatLoss(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(4)
}

export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  return String(n)
}
