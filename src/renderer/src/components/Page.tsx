import { useId, type ReactNode } from 'react'

interface PageProps {
  title: string
  description?: string
  actions?: ReactNode
  children: ReactNode
}

/** A screen: a heading, one line on what it is for, actions on the right. */
export function Page({ title, description, actions, children }: PageProps) {
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>{title}</h1>
          {description && <p>{description}</p>}
        </div>
        {actions && <div className="page-actions">{actions}</div>}
      </header>
      {children}
    </div>
  )
}

interface PanelProps {
  title: string
  description?: string
  actions?: ReactNode
  children: ReactNode
  id?: string
}

export function Panel({ title, description, actions, children, id }: PanelProps) {
  // Every panel is a region named by its title, so assistive technology can jump to it.
  const generated = useId()
  const headingId = id ? `${id}-title` : generated
  return (
    <section className="panel" aria-labelledby={headingId} id={id}>
      <div className="panel-header">
        <div>
          <h2 id={headingId}>{title}</h2>
          {description && <p>{description}</p>}
        </div>
        {actions && <div className="row">{actions}</div>}
      </div>
      <div className="panel-body">{children}</div>
    </section>
  )
}
