/**
 * Electron main process: a thin shell. It builds the same backend `frugal serve` uses,
 * exposes it over IPC, opens one hardened window, and asks before quitting while jobs
 * run. Start it with `npm run dev` (development) or `npm start` (the built app).
 */
import { app, BrowserWindow, dialog, ipcMain, nativeTheme } from 'electron'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createBackend, type Backend } from './backend'
import { electronDialogs } from './electron/dialogs'
import { installMenu } from './electron/menu'
import { showTrainingProgress } from './electron/progress'
import { hardenApp, isTrustedSender, registerAppScheme, serveRenderer } from './electron/security'
import { APP_ENTRY, devServerUrlOf } from './electron/trust'
import { utilityWorkerSpawner } from './electron/worker'
import { describeError } from '../shared/errors'
import { ipcChannels } from '../shared/transport'

const here = dirname(fileURLToPath(import.meta.url))
const devServerUrl = devServerUrlOf(process.env, app.isPackaged)
let window: BrowserWindow | null = null
let backend: Backend | null = null
let quitConfirmed = false

/**
 * better-sqlite3 must be compiled for Electron's Node ABI. A packaged app ships it that
 * way; in a source checkout `npm run desktop:native` builds a copy beside the Node one.
 */
function sqliteBinding(): string | undefined {
  const path = join(app.getAppPath(), '.electron-native', 'better_sqlite3.node')
  return existsSync(path) ? path : undefined
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Frugal',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#14161b' : '#ffffff',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      spellcheck: false,
    },
  })
  win.once('ready-to-show', () => win.show())
  win.on('closed', () => (window = null))
  void win.loadURL(devServerUrl ?? APP_ENTRY)
  return win
}

function start(): void {
  hardenApp(devServerUrl)
  if (!devServerUrl) serveRenderer(join(here, '../renderer'))
  const binding = sqliteBinding()
  const b = createBackend({
    mode: 'desktop',
    userDataDir: app.getPath('userData'),
    spawnWorker: utilityWorkerSpawner(
      join(here, 'worker.js'),
      binding ? { FRUGAL_SQLITE_BINDING: binding } : {},
    ),
    dialogs: electronDialogs(() => window),
    nativeBinding: binding,
    versions: { electron: process.versions.electron, chrome: process.versions.chrome },
  })
  backend = b
  try {
    const last = b.ctx.settings.recent().find((r) => r.exists)
    b.ctx.project.openOrCreate(last?.path ?? b.ctx.defaultProjectPath)
  } catch (err) {
    // Start anyway: the Settings screen offers to open or create another project.
    dialog.showErrorBox('Frugal could not open the project', describeError(err))
  }
  void b.ctx.backend.probe()

  ipcMain.handle(ipcChannels.invoke, (event, method: unknown, params: unknown) => {
    const trusted = isTrustedSender(event.senderFrame, window?.webContents.mainFrame, devServerUrl)
    if (!trusted || typeof method !== 'string') {
      return { ok: false, error: { code: 'unauthorized', message: 'Untrusted sender.' } }
    }
    return b.router.invoke(method, params)
  })
  b.ctx.events.subscribe(({ topic, payload }) => {
    for (const win of BrowserWindow.getAllWindows())
      win.webContents.send(ipcChannels.event, topic, payload)
  })
  showTrainingProgress(b.ctx.events, () => window)

  const pickAndRun = async (
    purpose: 'openProject' | 'createProject' | 'saveBackup',
  ): Promise<void> => {
    const path = await b.ctx.dialogs?.pickPath(purpose)
    if (!path) return
    const method =
      purpose === 'openProject'
        ? 'project.open'
        : purpose === 'createProject'
          ? 'project.create'
          : 'project.backup'
    const result = await b.router.invoke(
      method,
      method === 'project.backup' ? { destination: path, overwrite: true } : { path },
    )
    if (!result.ok) dialog.showErrorBox('Frugal', result.error.message)
  }
  installMenu(
    {
      newProject: () => void pickAndRun('createProject'),
      openProject: () => void pickAndRun('openProject'),
      backupProject: () => void pickAndRun('saveBackup'),
    },
    !app.isPackaged,
  )
  window = createWindow()
}

app.on('before-quit', (event) => {
  const active = backend?.ctx.jobs.active() ?? []
  if (quitConfirmed || !backend) return
  event.preventDefault()
  const proceed =
    active.length === 0 ||
    dialog.showMessageBoxSync({
      type: 'warning',
      buttons: ['Quit and cancel jobs', 'Keep running'],
      defaultId: 1,
      cancelId: 1,
      message: `${active.length} job${active.length === 1 ? ' is' : 's are'} still running.`,
      detail: 'Quitting cancels them. Training runs can be resumed from their last checkpoint.',
    }) === 0
  if (!proceed) return
  quitConfirmed = true
  void backend.shutdown().finally(() => app.quit())
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
app.on('activate', () => {
  if (backend && BrowserWindow.getAllWindows().length === 0) window = createWindow()
})

registerAppScheme()
if (!app.requestSingleInstanceLock()) app.quit()
else {
  app.on('second-instance', () => {
    if (window?.isMinimized()) window.restore()
    window?.focus()
  })
  void app.whenReady().then(start)
}
