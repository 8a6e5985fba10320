import { useApiQuery } from '../api/client'
import { Dialog } from '../components/Dialog'
import {
  chordLabel,
  effectiveReviewKeys,
  reviewCommands,
  reviewCommandTitles,
} from '../../../shared/review-keys'
import { isMac, modKey } from './keyboard'
import { screens } from './routes'

/** The `?` overlay: every shortcut, in one place. */
export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { data: settings } = useApiQuery('settings.get', {})
  const keys = effectiveReviewKeys(settings?.reviewKeys)
  return (
    <Dialog open={open} title="Keyboard shortcuts" onClose={onClose}>
      <h3 className="shortcuts-title">Everywhere</h3>
      <dl className="shortcuts">
        {screens.map((s) => (
          <div key={s.path} style={{ display: 'contents' }}>
            <dt>Go to {s.label}</dt>
            <dd>
              <kbd>{modKey.replace('+', '')}</kbd> <kbd>{s.key}</kbd>
            </dd>
          </div>
        ))}
        <dt>Move within the navigation</dt>
        <dd>
          <kbd>↑</kbd> <kbd>↓</kbd>
        </dd>
        <dt>Show this help</dt>
        <dd>
          <kbd>?</kbd>
        </dd>
        <dt>Close a dialog or panel</dt>
        <dd>
          <kbd>Esc</kbd>
        </dd>
      </dl>
      <h3 className="shortcuts-title">Review (change them in Settings)</h3>
      <dl className="shortcuts" aria-label="Review keys">
        {reviewCommands.map((c) => (
          <div key={c} style={{ display: 'contents' }}>
            <dt>{reviewCommandTitles[c]}</dt>
            <dd>
              {keys[c].map((k, i) => (
                <span key={k}>
                  {i > 0 && ' or '}
                  <kbd>{chordLabel(k, isMac)}</kbd>
                </span>
              ))}
            </dd>
          </div>
        ))}
        <dt>Toggle a label</dt>
        <dd>
          <kbd>1</kbd> … <kbd>9</kbd>
        </dd>
      </dl>
    </Dialog>
  )
}
