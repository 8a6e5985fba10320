import { X } from 'lucide-react'
import { useEffect, useRef, type ReactNode } from 'react'
import { Button } from './Button'

interface DialogProps {
  open: boolean
  title: string
  onClose: () => void
  children: ReactNode
}

/**
 * A modal on the native <dialog> element: focus is trapped and Escape closes it
 * without any library, and the page behind is inert.
 */
export function Dialog({ open, title, onClose, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    if (open && !dialog.open) {
      dialog.showModal()
      // showModal focuses the first focusable element, the Close button; the keyboard user
      // wants the first field (React's autoFocus does not survive showModal).
      dialog
        .querySelector<HTMLElement>(
          '.dialog-body [data-autofocus], .dialog-body input:not([type="hidden"]):not([type="color"]), .dialog-body select, .dialog-body textarea',
        )
        ?.focus()
    }
    if (!open && dialog.open) dialog.close()
  }, [open])
  return (
    <dialog ref={ref} className="dialog" aria-label={title} onClose={onClose} onCancel={onClose}>
      <div className="dialog-header">
        <h2>{title}</h2>
        <Button
          variant="ghost"
          size="small"
          aria-label="Close"
          icon={<X size={16} />}
          onClick={onClose}
        />
      </div>
      <div className="dialog-body">{open && children}</div>
    </dialog>
  )
}
