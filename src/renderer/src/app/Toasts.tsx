import { CheckCircle2, X, XCircle } from 'lucide-react'
import { useState } from 'react'
import { useEvent } from '../api/client'
import { isFinished, type JobResults } from '../../../shared/jobs'

interface Toast {
  id: string
  tone: 'success' | 'error'
  title: string
  body: string
}

/**
 * Short notices for things that finish while the user looks elsewhere: a training run
 * completing, pausing or failing. Good news fades after a few seconds; a failure stays until
 * dismissed (it must be read).
 */
const SUCCESS_TOAST_MS = 8000

export function Toasts() {
  const [toasts, setToasts] = useState<Toast[]>([])
  useEvent('job.state', (job) => {
    if (job.kind !== 'train.run' || !isFinished(job.state)) return
    const runId = (job.params as { runId?: string }).runId ?? ''
    let toast: Toast
    if (job.state === 'succeeded') {
      const r = job.result as JobResults['train.run']
      const val = r.valLoss === null ? '' : `, validation loss ${r.valLoss.toFixed(4)}`
      toast = {
        id: job.id,
        tone: 'success',
        title: `Run ${r.status}`,
        body: `${runId} at step ${r.step}${val}.`,
      }
    } else if (job.state === 'cancelled') {
      toast = {
        id: job.id,
        tone: 'success',
        title: 'Run stopped',
        body: `${runId}: its last checkpoint is saved.`,
      }
    } else {
      toast = {
        id: job.id,
        tone: 'error',
        title: 'Run failed',
        body: `${runId}: ${job.error?.message ?? 'unknown error'}`,
      }
    }
    setToasts((t) => [...t.filter((x) => x.id !== toast.id), toast].slice(-4))
    if (toast.tone === 'success')
      setTimeout(() => setToasts((t) => t.filter((x) => x !== toast)), SUCCESS_TOAST_MS)
  })
  if (toasts.length === 0) return null
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className="toast" data-tone={t.tone}>
          {t.tone === 'success' ? (
            <CheckCircle2 size={16} aria-hidden />
          ) : (
            <XCircle size={16} aria-hidden />
          )}
          <div>
            <strong>{t.title}</strong>
            <p className="small">{t.body}</p>
          </div>
          <button
            className="btn btn-ghost btn-small"
            aria-label="Dismiss"
            onClick={() => setToasts((all) => all.filter((x) => x.id !== t.id))}
          >
            <X size={14} />
          </button>
        </div>
      ))}
    </div>
  )
}
