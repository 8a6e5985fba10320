import { isAbsolute, resolve } from 'node:path'
import { checkExistingProject } from '../main/user-paths'

/**
 * A path typed on the command line, taken relative to the working directory as in any
 * shell command (`~` is expanded later, by resolveUserPath). The app's API itself takes
 * only full paths: the working directory of its process means nothing to the user.
 */
export function fromWorkingDir(path: string): string {
  const p = path.trim()
  return p === '~' || p.startsWith('~/') || isAbsolute(p) ? p : resolve(p)
}

/** The project named by `--db`: relative to the working directory, and it must exist. */
export function projectFromCli(path: string): string {
  return checkExistingProject(fromWorkingDir(path), 'db')
}
