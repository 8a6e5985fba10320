import { app, net, protocol, session, shell } from 'electron'
import { pathToFileURL } from 'node:url'
import { APP_ORIGIN, APP_SCHEME, isTrustedPage, rendererFile } from './trust'

/**
 * The desktop shell's security baseline (Electron's checklist): no navigation away from
 * the app, no new windows (https links open in the user's browser), no webviews, no
 * permissions, and no request leaves the machine except the dev server's.
 */
export function hardenApp(devServerUrl: string | undefined): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (url !== contents.getURL()) event.preventDefault()
    })
    contents.setWindowOpenHandler(({ url }) => {
      if (url.startsWith('https://')) void shell.openExternal(url)
      return { action: 'deny' }
    })
    contents.on('will-attach-webview', (event) => event.preventDefault())
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) =>
    callback(false),
  )
  session.defaultSession.setPermissionCheckHandler(() => false)
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const url = details.url
    let origin = ''
    try {
      origin = new URL(url).origin
    } catch {
      /* not a URL: refused below */
    }
    const local =
      url.startsWith(`${APP_ORIGIN}/`) ||
      url.startsWith('devtools://') ||
      url.startsWith('data:') ||
      url.startsWith('blob:') ||
      (devServerUrl !== undefined && origin === new URL(devServerUrl).origin)
    callback({ cancel: !local })
  })
}

/**
 * `app://frugal/` as a standard, secure origin (so 'self' in the CSP, fetch and module
 * scripts work as over https). Must run before the app is ready.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ])
}

/** Serve the built renderer at `app://frugal/`, and nothing outside its folder. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => {
    const file = rendererFile(request.url, rendererDir)
    if (!file) return new Response('Not found', { status: 404 })
    return net.fetch(pathToFileURL(file).toString())
  })
}

/** IPC is answered only for our window's main frame, showing exactly our page. */
export function isTrustedSender(
  frame: { url: string; parent: unknown } | null | undefined,
  mainFrame: unknown,
  devServerUrl: string | undefined,
): boolean {
  if (!frame || frame !== mainFrame || frame.parent !== null) return false
  return isTrustedPage(frame.url, devServerUrl)
}
