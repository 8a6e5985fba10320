import { normalize, sep } from 'node:path'

/**
 * Which page the desktop shell trusts, as pure functions (no Electron import, so they are
 * unit-tested under plain Node). The built app serves its renderer from a custom protocol,
 * `app://frugal/`, confined to the built renderer folder, instead of `file://`: a trusted
 * origin no other file on the disk shares, and a packaged build can turn the file
 * protocol's privileges off.
 */
export const APP_SCHEME = 'app'
export const APP_HOST = 'frugal'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
/** The page the window loads. */
export const APP_ENTRY = `${APP_ORIGIN}/index.html`

/**
 * Whether IPC from a frame showing `frameUrl` is answered: exactly our page (any hash
 * route, no query), or in development exactly the dev server's origin. Substrings do not
 * count: `file:///tmp/a.html?/renderer/index.html` and `http://localhost:5173.evil.test`
 * are strangers. The caller checks too that the frame is the window's main frame.
 */
export function isTrustedPage(
  frameUrl: string | undefined,
  devServerUrl: string | undefined,
): boolean {
  if (!frameUrl) return false
  let url: URL
  try {
    url = new URL(frameUrl)
  } catch {
    return false
  }
  if (devServerUrl !== undefined) return url.origin === new URL(devServerUrl).origin
  return (
    url.protocol === `${APP_SCHEME}:` &&
    url.host === APP_HOST &&
    url.pathname === '/index.html' &&
    url.search === ''
  )
}

/**
 * The file of the built renderer that `app://frugal/<path>` names, or null when the URL
 * is not ours or its path leaves the folder (`..`, encoded or not).
 */
export function rendererFile(requestUrl: string, rendererDir: string): string | null {
  let url: URL
  try {
    url = new URL(requestUrl)
  } catch {
    return null
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    return null
  }
  if (path.includes('\0')) return null
  const root = normalize(rendererDir)
  const file = normalize(`${root}${sep}${path === '/' ? 'index.html' : path}`)
  return file.startsWith(root + sep) ? file : null
}

/**
 * The renderer's address: the dev server's only in a development build (an unpackaged app);
 * a packaged app ignores ELECTRON_RENDERER_URL, which anyone who can set its environment
 * could otherwise point at a page of theirs, with the preload's API.
 */
export function devServerUrlOf(
  env: Record<string, string | undefined>,
  packaged: boolean,
): string | undefined {
  return packaged ? undefined : env.ELECTRON_RENDERER_URL || undefined
}
