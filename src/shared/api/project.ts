import { z } from 'zod'
import { filePath, noParams } from './common'
import { method } from './define'
import type { BackupResult, ProjectInfo, RecentProject } from '../types'

/** The open project (.frugal file): create, open, recent list, backup. */
export const projectApi = {
  /** The project open now, or null when none is. */
  'project.current': method<ProjectInfo | null>()(noParams),
  /** Open an existing .frugal file; migrates it to the current schema. */
  'project.open': method<ProjectInfo>()(z.object({ path: filePath }).strict()),
  /** Create a new, empty project file and open it. Refuses to overwrite. */
  'project.create': method<ProjectInfo>()(z.object({ path: filePath }).strict()),
  'project.recent': method<RecentProject[]>()(noParams),
  'project.forgetRecent': method<RecentProject[]>()(z.object({ path: filePath }).strict()),
  /** Copy the open project with SQLite's online backup: safe while jobs write to it. */
  'project.backup': method<BackupResult>()(
    z.object({ destination: filePath, overwrite: z.boolean().default(false) }).strict(),
  ),
}
