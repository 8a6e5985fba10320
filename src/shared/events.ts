import type { JobKind, JobProgress, JobRecord } from './jobs'
import type { AppSettings, BackendState, ProjectInfo } from './types'

/** Typed event topics pushed from the backend to every client. */
export interface EventMap {
  /** A job was created or changed state (queued, running, finished). */
  'job.state': JobRecord
  /** A running job reported progress. */
  'job.progress': { id: string; kind: JobKind; progress: JobProgress }
  /** A project was opened, created or closed. */
  /** A piece of a running job's streamed output (generated text); `seq` counts from 0. */
  'job.output': { id: string; kind: JobKind; seq: number; text: string }
  'project.changed': ProjectInfo | null
  'backend.changed': BackendState
  'settings.changed': AppSettings
}

export type Topic = keyof EventMap
export const topics: readonly Topic[] = [
  'job.state',
  'job.progress',
  'job.output',
  'project.changed',
  'backend.changed',
  'settings.changed',
]

export interface EventEnvelope<T extends Topic = Topic> {
  topic: T
  payload: EventMap[T]
}

export function isTopic(name: unknown): name is Topic {
  return typeof name === 'string' && (topics as readonly string[]).includes(name)
}
