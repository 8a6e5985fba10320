import { existsSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { checkExistingProject, resolveUserPath } from '../main/user-paths'
import { UserError } from '../shared/errors'

/**
 * A path typed on the command line, taken relative to the working directory as in any
 * shell command (`~` is expanded later, by resolveUserPath). The app's API itself takes
 * only full paths: the working directory of its process means nothing to the user.
 */
export function fromWorkingDir(path: string): string {
  const p = path.trim()
  return p === '~' || p.startsWith('~/') || isAbsolute(p) ? p : resolve(p)
}

/** A word for a shell command line, quoted when the shell would split or expand it. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

/**
 * The project named by `--db`: relative to the working directory, and it must exist. Every
 * command that opens a project comes through here, so a missing file gets the same answer
 * everywhere: where it looked, and the command that creates one there.
 */
export function projectFromCli(path: string): string {
  const full = resolveUserPath(fromWorkingDir(path), 'db')
  if (!existsSync(full)) {
    throw new UserError(
      'not_found',
      `There is no project file at ${full}. Create one with: frugal project create ${shellWord(path.trim())}`,
      'db',
    )
  }
  return checkExistingProject(full, 'db')
}
