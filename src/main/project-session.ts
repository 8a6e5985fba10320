import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { EventBus } from './events'
import type { SettingsFile } from './settings'
import { checkExistingProject, checkNewProject } from './user-paths'
import { Store } from '../store'
import { UserError } from '../shared/errors'
import type { ProjectInfo } from '../shared/types'
import { isProcessAlive } from '../store/process-alive'

export interface ProjectSessionDeps {
  events: EventBus
  settings: SettingsFile
  appVersion: string
  /** Jobs working on the open project; switching projects waits for none. */
  activeProjectJobs: () => number
  nativeBinding?: string | undefined
  now?: () => Date
  /** Called once a project is open: resumes work it left unfinished (dataset deletions). */
  onOpened?: (store: Store) => void
}

/** The one project open in this process, and the rules for switching it. */
export class ProjectSession {
  private store: Store | null = null
  private readonly now: () => Date

  constructor(private readonly deps: ProjectSessionDeps) {
    this.now = deps.now ?? (() => new Date())
  }

  current(): Store | null {
    return this.store
  }

  /** The open project, or a `no_project` error a user understands. */
  require(): Store {
    if (!this.store)
      throw new UserError('no_project', 'No project is open. Open or create one in Settings.')
    return this.store
  }

  info(): ProjectInfo | null {
    return this.store?.info() ?? null
  }

  open(input: string): ProjectInfo {
    const path = checkExistingProject(input)
    return this.switchTo(() => Store.open(path, this.storeOptions()))
  }

  create(input: string): ProjectInfo {
    const path = checkNewProject(input)
    return this.switchTo(() => Store.create(path, this.storeOptions()))
  }

  /** Start-up: open the file, or create it (and its folder) when it does not exist yet. */
  openOrCreate(path: string): ProjectInfo {
    mkdirSync(dirname(path), { recursive: true })
    try {
      return this.open(path)
    } catch (err) {
      if (err instanceof UserError && err.code === 'not_found') return this.create(path)
      throw err
    }
  }

  close(): void {
    this.store?.close()
    this.store = null
  }

  private switchTo(openStore: () => Store): ProjectInfo {
    if (this.deps.activeProjectJobs() > 0) {
      throw new UserError(
        'conflict',
        'Jobs are still running on the open project. Wait for them or cancel them first.',
      )
    }
    const next = openStore()
    this.store?.close()
    this.store = next
    // Jobs and cleaning runs a crashed or killed process left "running" did not finish:
    // say so (and rebuild what such a run had set aside).
    next.jobs.failOrphans(isProcessAlive, this.now().toISOString())
    next.cleanRuns.failOrphans(isProcessAlive, this.now().toISOString())
    this.deps.settings.addRecent(next.path, this.now())
    const info = next.info()
    this.deps.events.publish('project.changed', info)
    this.deps.onOpened?.(next)
    return info
  }

  private storeOptions() {
    return {
      appVersion: this.deps.appVersion,
      ...(this.deps.nativeBinding ? { nativeBinding: this.deps.nativeBinding } : {}),
    }
  }
}
