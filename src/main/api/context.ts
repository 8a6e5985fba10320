import type { BackendMonitor } from '../backend-monitor'
import type { EventBus } from '../events'
import type { JobSupervisor } from '../jobs/supervisor'
import type { ProjectSession } from '../project-session'
import type { SettingsFile } from '../settings'
import type { PathPurpose } from '../../shared/api/system'

/** Native open/save dialogs: only the desktop app has them. */
export interface NativeDialogs {
  pickPath(purpose: PathPurpose, defaultPath?: string): Promise<string | null>
}

/** Everything the handlers may use, built once per process by `createBackend`. */
export interface AppContext {
  readonly mode: 'desktop' | 'serve'
  readonly appVersion: string
  readonly versions: Record<string, string>
  readonly userDataDir: string
  readonly defaultProjectPath: string
  readonly events: EventBus
  readonly settings: SettingsFile
  readonly project: ProjectSession
  readonly jobs: JobSupervisor
  readonly backend: BackendMonitor
  readonly dialogs: NativeDialogs | null
}
