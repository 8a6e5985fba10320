import { useEffect, useState } from 'react'

/**
 * Changes whenever <html data-theme> does. Canvas charts read colours from CSS
 * variables once, so they rebuild on this; watching the attribute itself avoids
 * racing the effect that sets it (a child's effects run before its parent's).
 */
export function useThemeVersion(): number {
  const [version, setVersion] = useState(0)
  useEffect(() => {
    const observer = new MutationObserver(() => setVersion((v) => v + 1))
    observer.observe(document.documentElement, {
      attributes: true,
      attributeFilter: ['data-theme'],
    })
    return () => observer.disconnect()
  }, [])
  return version
}
