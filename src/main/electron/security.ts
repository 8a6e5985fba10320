import { app, session, shell } from 'electron'

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
    const local =
      url.startsWith('file://') ||
      url.startsWith('devtools://') ||
      url.startsWith('data:') ||
      url.startsWith('blob:') ||
      (devServerUrl !== undefined && url.startsWith(new URL(devServerUrl).origin))
    callback({ cancel: !local })
  })
}

/** IPC is answered only for frames showing our own renderer. */
export function isTrustedSender(
  frameUrl: string | undefined,
  devServerUrl: string | undefined,
): boolean {
  if (!frameUrl) return false
  if (devServerUrl && frameUrl.startsWith(new URL(devServerUrl).origin)) return true
  return frameUrl.startsWith('file://') && frameUrl.includes('/renderer/index.html')
}
