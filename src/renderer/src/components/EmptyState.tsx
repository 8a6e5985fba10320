import { Check, Circle } from 'lucide-react'
import type { ReactNode } from 'react'

export interface EmptyStep {
  label: string
  done: boolean
}

interface EmptyStateProps {
  icon: ReactNode
  title: string
  children: ReactNode
  /** Prerequisites in order, ticked when met: tells the user what to do next. */
  steps?: EmptyStep[]
  actions?: ReactNode
}

/** What a screen shows before it has anything: what goes here and how to get it. */
export function EmptyState({ icon, title, children, steps, actions }: EmptyStateProps) {
  return (
    <section className="empty" aria-label={title}>
      <div className="empty-icon" aria-hidden>
        {icon}
      </div>
      <h2>{title}</h2>
      <p>{children}</p>
      {steps && (
        <ol className="empty-steps">
          {steps.map((s) => (
            <li key={s.label} data-done={s.done}>
              {s.done ? (
                <Check size={14} aria-label="done" />
              ) : (
                <Circle size={14} aria-label="to do" />
              )}
              {s.label}
            </li>
          ))}
        </ol>
      )}
      {actions && <div className="row">{actions}</div>}
    </section>
  )
}
