import { useQueryClient } from '@tanstack/react-query'
import { Monitor, Moon, Sun } from 'lucide-react'
import type { ReactNode } from 'react'
import { queryKey, useApiMutation, useApiQuery } from '../../api/client'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import type { AppSettings, ThemePreference } from '../../../../shared/types'

const options: { value: ThemePreference; label: string; icon: ReactNode }[] = [
  { value: 'system', label: 'System', icon: <Monitor size={14} /> },
  { value: 'light', label: 'Light', icon: <Sun size={14} /> },
  { value: 'dark', label: 'Dark', icon: <Moon size={14} /> },
]

export function AppearanceSection() {
  const client = useQueryClient()
  const key = queryKey('settings.get', {})
  const { data: settings } = useApiQuery('settings.get', {})
  // Optimistic: the choice shows at once and is rolled back if saving fails.
  const update = useApiMutation('settings.update', {
    onMutate: (patch) => {
      const previous = client.getQueryData<AppSettings>(key)
      if (previous) client.setQueryData<AppSettings>(key, { ...previous, ...patch })
      return previous
    },
    onError: (_err, _patch, previous) => client.setQueryData(key, previous),
  })
  return (
    <Panel id="appearance" title="Appearance">
      <fieldset className="segmented" style={{ margin: 0 }}>
        <legend className="visually-hidden">Theme</legend>
        {options.map((o) => (
          <label key={o.value}>
            <input
              type="radio"
              name="theme"
              value={o.value}
              checked={settings?.theme === o.value}
              disabled={!settings}
              onChange={() => update.mutate({ theme: o.value })}
            />
            {o.icon}
            {o.label}
          </label>
        ))}
      </fieldset>
      {update.error && (
        <Notice tone="error">Could not save the theme: {update.error.message}</Notice>
      )}
    </Panel>
  )
}
