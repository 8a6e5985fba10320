import { useEffect } from 'react'

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform)
/** The modifier shown in shortcut hints. */
export const modKey = isMac ? '⌘' : 'Ctrl+'

/** True when typing in a field, where single-key shortcuts must not fire. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null
  if (!el) return false
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)
}

export interface GlobalShortcutHandlers {
  /** Ctrl/Cmd + digit. */
  onScreenKey(digit: string): boolean
  onHelp(): void
}

/** App-wide shortcuts: screen switching and the help overlay. */
export function useGlobalShortcuts(handlers: GlobalShortcutHandlers): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      const mod = isMac ? event.metaKey : event.ctrlKey
      if (mod && !event.altKey && !event.shiftKey && /^[1-9]$/.test(event.key)) {
        if (handlers.onScreenKey(event.key)) event.preventDefault()
        return
      }
      if (event.key === '?' && !mod && !event.altKey && !isTyping(event.target)) {
        event.preventDefault()
        handlers.onHelp()
      }
    }
    window.addEventListener('keydown', onKeyDown)
    return () => window.removeEventListener('keydown', onKeyDown)
  }, [handlers])
}
