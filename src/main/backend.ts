import { BackendMonitor } from './backend-monitor'
import { EventBus } from './events'
import { JobSupervisor } from './jobs/supervisor'
import type { SpawnWorker } from './jobs/worker-port'
import { defaultProjectPath } from './paths'
import { ProjectSession } from './project-session'
import { SettingsFile } from './settings'
import { createHandlers } from './api/handlers'
import type { AppContext, NativeDialogs } from './api/context'
import { createRouter, type Router } from './api/router'
import { jobKindDefinitions } from '../shared/jobs'
import { appVersion } from './version'

export interface BackendOptions {
  mode: 'desktop' | 'serve'
  userDataDir: string
  spawnWorker: SpawnWorker
  dialogs?: NativeDialogs
  /** better-sqlite3 binary for this runtime (Electron), see OpenDatabaseOptions. */
  nativeBinding?: string | undefined
  versions?: Record<string, string>
  maxConcurrentJobs?: number
}

export interface Backend {
  ctx: AppContext
  router: Router
  /** Cancel jobs, wait for workers, close the project. */
  shutdown(): Promise<void>
}

/**
 * Everything behind the API, independent of transport: Electron's main process and
 * `frugal serve` both build one of these and put their own transport in front.
 */
export function createBackend(options: BackendOptions): Backend {
  const events = new EventBus()
  const settings = new SettingsFile(options.userDataDir)
  let supervisor: JobSupervisor | null = null
  const project = new ProjectSession({
    events,
    settings,
    appVersion,
    nativeBinding: options.nativeBinding,
    activeProjectJobs: () =>
      supervisor?.active().filter((j) => jobKindDefinitions[j.kind].needsProject).length ?? 0,
    // A deletion that was cancelled, or whose process died, finishes now.
    onOpened: (store) => {
      for (const { datasetId } of store.datasets.pendingDeletions())
        supervisor?.start({ kind: 'data.delete', params: { datasetId } })
    },
  })
  let monitor: BackendMonitor | null = null
  supervisor = new JobSupervisor({
    spawn: options.spawnWorker,
    events,
    store: () => project.current(),
    backendChoice: () => {
      const state = monitor?.current()
      return state?.status === 'ready' ? state.info.name : undefined
    },
    ...(options.maxConcurrentJobs ? { maxConcurrent: options.maxConcurrentJobs } : {}),
  })
  const ctx: AppContext = {
    mode: options.mode,
    appVersion,
    versions: { node: process.versions.node, ...options.versions },
    userDataDir: options.userDataDir,
    defaultProjectPath: defaultProjectPath(options.userDataDir),
    events,
    settings,
    project,
    jobs: supervisor,
    backend: (monitor = new BackendMonitor(supervisor, events)),
    dialogs: options.dialogs ?? null,
  }
  const jobs = supervisor
  return {
    ctx,
    router: createRouter(createHandlers(ctx)),
    async shutdown() {
      await jobs.shutdown()
      project.close()
    },
  }
}
