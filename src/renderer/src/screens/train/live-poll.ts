/**
 * How often a training run's views refetch, in milliseconds, while its job runs. The
 * worker writes a metric row at each logged step and log lines as it goes, with no event
 * per row (a small run logs several a second): a fixed cadence bounds the refetches
 * whatever the step rate. The job's start and end still make them stale at once
 * (`staleQueries` in api/jobs.ts), and nothing polls while no run trains.
 */
export const LIVE_RUN_POLL = {
  /** The run's step, wall time and status (the ETA). */
  step: 3000,
  /** Loss and the other charts. */
  metrics: 2000,
  /** The MoE heatmap, whose window moves slowly. */
  expertLoad: 4000,
  log: 3000,
  /** The runs list's progress bars. */
  list: 3000,
} as const

/**
 * Whether a run's views should poll: its job is queued or running in this app, or the
 * project says it trains (a run the CLI trains has no job here).
 */
export const training = (run: { jobId: string | null; status: string }): boolean =>
  run.jobId !== null || run.status === 'running'
