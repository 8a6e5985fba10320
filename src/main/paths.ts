import { homedir } from 'node:os'
import { join } from 'node:path'

export const APP_NAME = 'Frugal'
export const PROJECT_EXTENSION = '.frugal'

/**
 * The per-user folder for settings and the default project: the same one Electron's
 * `app.getPath('userData')` returns, so the desktop app and `frugal serve` agree.
 * FRUGAL_HOME overrides it (tests, portable installs).
 */
export function defaultUserDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string {
  if (env.FRUGAL_HOME) return env.FRUGAL_HOME
  if (platform === 'win32')
    return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME)
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_NAME)
}

export function defaultProjectPath(userDataDir: string): string {
  return join(userDataDir, 'projects', `Default${PROJECT_EXTENSION}`)
}
