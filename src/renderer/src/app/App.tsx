import { useCallback, useMemo, useState } from 'react'
import { Redirect, Route, Router, Switch, useLocation } from 'wouter'
import { useHashLocation } from 'wouter/use-hash-location'
import { useApiQuery, useEventInvalidation } from '../api/client'
import { useJobInvalidation } from '../api/jobs'
import { useGlobalShortcuts } from './keyboard'
import { screens } from './routes'
import { ShortcutHelp } from './ShortcutHelp'
import { Sidebar } from './Sidebar'
import { StatusBar } from './StatusBar'
import { Toasts } from './Toasts'
import { useTheme } from './theme'

function Shell({ connected }: { connected: boolean }) {
  const [, navigate] = useLocation()
  const [helpOpen, setHelpOpen] = useState(false)
  const { data: settings } = useApiQuery('settings.get', {})
  useTheme(settings?.theme)
  useEventInvalidation()
  useJobInvalidation()

  const shortcuts = useMemo(
    () => ({
      onScreenKey: (digit: string) => {
        const screen = screens.find((s) => s.key === digit)
        if (screen) navigate(screen.path)
        return !!screen
      },
      onHelp: () => setHelpOpen(true),
    }),
    [navigate],
  )
  useGlobalShortcuts(shortcuts)
  const closeHelp = useCallback(() => setHelpOpen(false), [])

  return (
    <div className="app">
      <a
        href="#main"
        className="skip-link"
        onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}
      >
        Skip to content
      </a>
      <Sidebar />
      <main className="main" id="main" tabIndex={-1}>
        <Switch>
          {screens.map((s) => (
            <Route key={s.path} path={s.path} component={s.component} nest={s.nest ?? false} />
          ))}
          <Route>
            <Redirect to="/data" />
          </Route>
        </Switch>
      </main>
      <StatusBar connected={connected} />
      <ShortcutHelp open={helpOpen} onClose={closeHelp} />
      <Toasts />
    </div>
  )
}

/** Routes live in the URL hash, so they work from a file (Electron) and over HTTP alike. */
export function App({ connected }: { connected: boolean }) {
  return (
    <Router hook={useHashLocation}>
      <Shell connected={connected} />
    </Router>
  )
}
