import { type BrowserWindow, Notification } from 'electron'
import type { EventBus } from '../events'
import type { JobResults } from '../../shared/jobs'

/**
 * Training in the desktop shell: the window's taskbar entry shows the running run's
 * progress, and the OS notifies when a run finishes or fails (the window may be hidden).
 */
export function showTrainingProgress(
  events: EventBus,
  window: () => BrowserWindow | null,
): () => void {
  return events.subscribe(({ topic, payload }) => {
    const win = window()
    if (topic === 'job.progress') {
      const p = payload as { kind: string; progress: { done: number; total: number | null } }
      if (p.kind === 'train.run' && p.progress.total)
        win?.setProgressBar(p.progress.done / p.progress.total)
      return
    }
    if (topic !== 'job.state') return
    const job = payload as {
      kind: string
      state: string
      params: { runId?: string }
      result: unknown
      error: { message: string } | null
    }
    if (job.kind !== 'train.run' || job.state === 'queued' || job.state === 'running') return
    win?.setProgressBar(-1)
    if (!Notification.isSupported()) return
    const runId = job.params.runId ?? ''
    const body =
      job.state === 'succeeded'
        ? `${runId}: ${(job.result as JobResults['train.run']).status} at step ${(job.result as JobResults['train.run']).step}.`
        : job.state === 'failed'
          ? `${runId}: ${job.error?.message ?? 'failed'}`
          : `${runId}: stopped; its last checkpoint is saved.`
    new Notification({
      title: job.state === 'failed' ? 'Training failed' : 'Training finished',
      body,
    }).show()
  })
}
