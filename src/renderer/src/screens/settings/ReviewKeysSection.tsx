import { useQueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { queryKey, useApiMutation, useApiQuery } from '../../api/client'
import { isMac } from '../../app/keyboard'
import { Button } from '../../components/Button'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import {
  chordLabel,
  chordOf,
  defaultReviewKeys,
  effectiveReviewKeys,
  reviewCommands,
  reviewCommandTitles,
  type ReviewCommand,
} from '../../../../shared/review-keys'
import type { AppSettings } from '../../../../shared/types'

/** The review workspace's keys: press "Change", then the new key. */
export function ReviewKeysSection() {
  const client = useQueryClient()
  const { data: settings } = useApiQuery('settings.get', {})
  const [capturing, setCapturing] = useState<ReviewCommand | null>(null)
  const update = useApiMutation('settings.update', {
    onSuccess: (saved) => client.setQueryData<AppSettings>(queryKey('settings.get', {}), saved),
  })
  const keys = effectiveReviewKeys(settings?.reviewKeys)

  useEffect(() => {
    if (!capturing || !settings) return
    const onKeyDown = (e: KeyboardEvent) => {
      if (['Shift', 'Control', 'Alt', 'Meta'].includes(e.key)) return
      e.preventDefault()
      e.stopPropagation()
      if (e.key === 'Escape') return setCapturing(null)
      const chord = chordOf(e, isMac)
      update.mutate({ reviewKeys: { ...settings.reviewKeys, [capturing]: [chord] } })
      setCapturing(null)
    }
    window.addEventListener('keydown', onKeyDown, { capture: true })
    return () => window.removeEventListener('keydown', onKeyDown, { capture: true })
  }, [capturing, settings, update])

  const reset = () => update.mutate({ reviewKeys: {} })
  const custom = settings && Object.keys(settings.reviewKeys).length > 0
  return (
    <Panel
      id="review-keys"
      title="Review keys"
      description="The keys of the review workspace. Keys 1 to 9 toggle labels and ? shows the help; those cannot be taken."
      actions={
        <Button size="small" disabled={!custom} onClick={reset}>
          Reset to defaults
        </Button>
      }
    >
      <table className="table keys-table">
        <tbody>
          {reviewCommands.map((c) => (
            <tr key={c}>
              <td>{reviewCommandTitles[c]}</td>
              <td>
                {capturing === c ? (
                  <span className="small" role="status">
                    Press the new key (Esc to cancel)…
                  </span>
                ) : (
                  keys[c].map((k, i) => (
                    <span key={k}>
                      {i > 0 && ' or '}
                      <kbd>{chordLabel(k, isMac)}</kbd>
                    </span>
                  ))
                )}
              </td>
              <td style={{ textAlign: 'right' }}>
                <Button
                  size="small"
                  variant="ghost"
                  aria-label={`Change the key for: ${reviewCommandTitles[c]}`}
                  onClick={() => setCapturing(c)}
                >
                  Change
                </Button>
                {settings?.reviewKeys[c] && (
                  <Button
                    size="small"
                    variant="ghost"
                    aria-label={`Restore the default key for: ${reviewCommandTitles[c]}`}
                    title={`Default: ${defaultReviewKeys[c].map((k) => chordLabel(k, isMac)).join(' or ')}`}
                    onClick={() => {
                      const rest = { ...settings.reviewKeys }
                      delete rest[c]
                      update.mutate({ reviewKeys: rest })
                    }}
                  >
                    Default
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {update.error && <Notice tone="error">{update.error.message}</Notice>}
    </Panel>
  )
}
