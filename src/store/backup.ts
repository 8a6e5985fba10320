import { renameSync, rmSync, statSync, existsSync } from 'node:fs'
import type { Store } from './store'
import { UserError } from '../shared/errors'
import type { BackupResult } from '../shared/types'

/**
 * Copy a project with SQLite's online backup API: consistent even while workers write
 * to it. The copy is written beside the destination and renamed into place only when
 * complete, so a failed backup never leaves a half file under the chosen name.
 */
export async function backupProject(
  store: Store,
  destination: string,
  options: { overwrite?: boolean; onProgress?: (fraction: number) => void } = {},
): Promise<BackupResult> {
  if (existsSync(destination) && !options.overwrite) {
    throw new UserError(
      'conflict',
      `${destination} already exists. Choose another name or allow overwriting.`,
      'destination',
    )
  }
  const partial = `${destination}.partial`
  const started = performance.now()
  try {
    await store.copyTo(partial, options.onProgress)
    renameSync(partial, destination)
    options.onProgress?.(1) // the callback runs before each step, never after the last
  } catch (err) {
    rmSync(partial, { force: true })
    throw new UserError(
      'io',
      `Backup to ${destination} failed: ${(err as Error).message}`,
      'destination',
    )
  }
  return {
    path: destination,
    bytes: statSync(destination).size,
    wallMs: Math.round(performance.now() - started),
  }
}
