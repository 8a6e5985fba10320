import { useRef, type KeyboardEvent } from 'react'
import { Link, useLocation } from 'wouter'
import { modKey } from './keyboard'
import { screens } from './routes'

/** Main navigation. Arrow keys move between entries; Ctrl/Cmd+digit jumps from anywhere. */
export function Sidebar() {
  const [location] = useLocation()
  const list = useRef<HTMLUListElement>(null)

  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return
    const links = [...(list.current?.querySelectorAll<HTMLAnchorElement>('a') ?? [])]
    const index = links.indexOf(document.activeElement as HTMLAnchorElement)
    if (index === -1) return
    event.preventDefault()
    const next = (index + (event.key === 'ArrowDown' ? 1 : -1) + links.length) % links.length
    links[next]?.focus()
  }

  return (
    <aside className="sidebar">
      <div className="brand">
        <span className="brand-mark" aria-hidden>
          F
        </span>
        Frugal
      </div>
      <nav aria-label="Main">
        <ul className="nav" ref={list} onKeyDown={onKeyDown}>
          {screens.map((screen) => (
            <li key={screen.path}>
              {screen.path === '/settings' && <div className="nav-separator" role="presentation" />}
              <Link
                href={screen.path}
                className="nav-link"
                aria-current={
                  location === screen.path || location.startsWith(`${screen.path}/`)
                    ? 'page'
                    : undefined
                }
                aria-keyshortcuts={`${modKey === '⌘' ? 'Meta' : 'Control'}+${screen.key}`}
              >
                {screen.icon}
                {screen.label}
                <span className="nav-shortcut" aria-hidden>
                  {modKey}
                  {screen.key}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="sidebar-footer">
        Press <kbd>?</kbd> for shortcuts
      </div>
    </aside>
  )
}
