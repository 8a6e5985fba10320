import { existsSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, extname, isAbsolute, normalize, resolve } from 'node:path'
import { PROJECT_EXTENSION } from './paths'
import { UserError } from '../shared/errors'

/**
 * Paths typed by a user (or sent by a client) are checked here before any file is
 * touched: `~` expanded, absolute, normalized, and the folder they live in must exist.
 */
export function resolveUserPath(input: string, field: string): string {
  let p = input.trim()
  if (p === '~' || p.startsWith('~/')) p = homedir() + p.slice(1)
  if (!isAbsolute(p)) {
    throw new UserError(
      'invalid_params',
      `Use a full path (starting with / or a drive letter): "${input}" is relative.`,
      field,
    )
  }
  return normalize(p)
}

/** A project to open: must exist and be a file. Content is checked by the store. */
export function checkExistingProject(input: string, field = 'path'): string {
  const p = resolveUserPath(input, field)
  if (!existsSync(p)) throw new UserError('not_found', `There is no file at ${p}.`, field)
  if (statSync(p).isDirectory())
    throw new UserError('invalid_params', `${p} is a folder; choose a .frugal file.`, field)
  return p
}

/** Where to write a new file: its folder must exist, and the file must not (unless allowed). */
export function checkNewFile(
  input: string,
  field: string,
  options: { extension?: string; overwrite?: boolean } = {},
): string {
  let p = resolveUserPath(input, field)
  if (options.extension && extname(p) === '') p += options.extension
  const parent = dirname(p)
  if (!existsSync(parent) || !statSync(parent).isDirectory()) {
    throw new UserError('not_found', `The folder ${parent} does not exist.`, field)
  }
  if (existsSync(p)) {
    if (statSync(p).isDirectory()) throw new UserError('invalid_params', `${p} is a folder.`, field)
    if (!options.overwrite) throw new UserError('conflict', `${p} already exists.`, field)
  }
  return p
}

export const checkNewProject = (input: string, field = 'path'): string =>
  checkNewFile(input, field, { extension: PROJECT_EXTENSION })

export function samePath(a: string, b: string): boolean {
  return resolve(a) === resolve(b)
}
