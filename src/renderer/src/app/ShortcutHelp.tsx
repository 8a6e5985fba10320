import { Dialog } from '../components/Dialog'
import { modKey } from './keyboard'
import { screens } from './routes'

/** The `?` overlay: every shortcut, in one place. */
export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} title="Keyboard shortcuts" onClose={onClose}>
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
    </Dialog>
  )
}
