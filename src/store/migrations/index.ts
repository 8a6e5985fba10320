import { initial } from './001_initial'
import type { Migration } from './types'

/** Every migration, in order. Append; never reorder or edit a shipped one. */
export const migrations: readonly Migration[] = [initial]

export const latestSchemaVersion = migrations.length
export type { Migration }
