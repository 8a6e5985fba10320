import { useEffect } from 'react'
import type { ThemePreference } from '../../../shared/types'

/** Apply a theme preference to <html data-theme>, following the OS when it is "system". */
export function useTheme(preference: ThemePreference | undefined): void {
  useEffect(() => {
    const media = window.matchMedia('(prefers-color-scheme: dark)')
    const apply = () => {
      const dark = preference === 'dark' || (preference !== 'light' && media.matches)
      document.documentElement.dataset.theme = dark ? 'dark' : 'light'
    }
    apply()
    media.addEventListener('change', apply)
    return () => media.removeEventListener('change', apply)
  }, [preference])
}
