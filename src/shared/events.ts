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

/**
 * The event socket's own messages, besides events: the acknowledgement of a subscription,
 * and a heartbeat the server sends every EVENT_HEARTBEAT_MS so that a client can tell a
 * quiet socket from one that stopped delivering (browsers do not expose WebSocket pings).
 */
export type EventControlMessage = { type: 'subscribed'; topics: Topic[] } | { type: 'heartbeat' }

/** The event socket's close code when its token is missing or wrong (4000-4999: the application's). */
export const EVENT_SOCKET_UNAUTHORIZED = 4401

export const EVENT_HEARTBEAT_MS = 10_000

export function isTopic(name: unknown): name is Topic {
  return typeof name === 'string' && (topics as readonly string[]).includes(name)
}
