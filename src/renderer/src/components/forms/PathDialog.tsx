import { FolderOpen } from 'lucide-react'
import { useId, useState, type FormEvent, type ReactNode } from 'react'
import { ApiCallError, useApiQuery, useTransport, call } from '../../api/client'
import type { PathPurpose } from '../../../../shared/api/system'
import { Button } from '../Button'
import { Dialog } from '../Dialog'
import { Notice } from '../Notice'

interface PathDialogProps {
  open: boolean
  title: string
  purpose: PathPurpose
  label: string
  hint: string
  confirmLabel: string
  initialPath?: string
  placeholder?: string
  /** More fields under the path (their state lives with the caller). */
  extra?: ReactNode
  onClose: () => void
  /** Do the work; a rejected ApiCallError is shown under the field and keeps the dialog open. */
  onSubmit: (path: string) => Promise<unknown>
}

/**
 * Ask for a file path: typed (works everywhere, including a browser on `frugal serve`)
 * or picked with the OS dialog where the desktop app offers one.
 */
export function PathDialog(props: PathDialogProps) {
  return (
    <Dialog open={props.open} title={props.title} onClose={props.onClose}>
      <PathForm {...props} />
    </Dialog>
  )
}

function PathForm({
  purpose,
  label,
  hint,
  confirmLabel,
  initialPath,
  placeholder = '/home/you/projects/corpus.frugal',
  extra,
  onClose,
  onSubmit,
}: PathDialogProps) {
  const transport = useTransport()
  const { data: info } = useApiQuery('system.info', {})
  const [path, setPath] = useState(initialPath ?? '')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const inputId = useId()
  const hintId = useId()

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await onSubmit(path)
      onClose()
    } catch (err) {
      setError(err instanceof ApiCallError ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  const browse = async () => {
    try {
      const picked = await call(transport, 'system.pickPath', {
        purpose,
        ...(path ? { defaultPath: path } : {}),
      })
      if (picked) setPath(picked)
    } catch (err) {
      setError(err instanceof ApiCallError ? err.message : String(err))
    }
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <div className="field">
        <label htmlFor={inputId}>{label}</label>
        <div className="row" style={{ flexWrap: 'nowrap' }}>
          <input
            id={inputId}
            className="input mono"
            style={{ flex: 1 }}
            value={path}
            onChange={(e) => setPath(e.target.value)}
            placeholder={placeholder}
            aria-describedby={hintId}
            aria-invalid={error !== null}
            autoFocus
            spellCheck={false}
          />
          {info?.nativeDialogs && (
            <Button icon={<FolderOpen size={14} />} onClick={() => void browse()}>
              Browse…
            </Button>
          )}
        </div>
        <span className="field-hint" id={hintId}>
          {hint}
        </span>
      </div>
      {extra}
      {error && <Notice tone="error">{error}</Notice>}
      <div className="row" style={{ justifyContent: 'flex-end' }}>
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={busy || path.trim() === ''}>
          {busy ? 'Working…' : confirmLabel}
        </Button>
      </div>
    </form>
  )
}
