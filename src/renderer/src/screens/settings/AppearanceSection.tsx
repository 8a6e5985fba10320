import { useQueryClient } from '@tanstack/react-query'
import { Monitor, Moon, Sun } from 'lucide-react'
import { useState, type ReactNode } from 'react'
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
  // Optimistic: the choice shows at once and is rolled back if saving fails. A fetch of the
  // settings already on its way (say, the refresh right after the page loads) would answer
  // with the old theme: it is cancelled, and while saving, the radios show the choice.
  const update = useApiMutation('settings.update', {
    onMutate: async (patch) => {
      await client.cancelQueries({ queryKey: key })
      const previous = client.getQueryData<AppSettings>(key)
      if (previous) client.setQueryData<AppSettings>(key, { ...previous, ...patch })
      return previous
    },
    onError: (_err, _patch, previous) => client.setQueryData(key, previous),
    onSuccess: (saved) => client.setQueryData(key, saved),
    onSettled: () => setChoice(null),
  })
  // Set in the change handler itself: a controlled radio whose value does not change before
  // the handler returns is put back by React, and the cache updates a moment later.
  const [choice, setChoice] = useState<ThemePreference | null>(null)
  const shown = choice ?? settings?.theme
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
              checked={shown === o.value}
              disabled={!settings}
              onChange={() => {
                setChoice(o.value)
                update.mutate({ theme: o.value })
              }}
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
