import type { Db } from '../database'

/** A numbered schema change. Versions are consecutive from 1 and never edited once shipped. */
export interface Migration {
  version: number
  name: string
  /** Plain SQL, or code for changes SQL cannot express (data backfills). */
  sql?: string
  up?: (db: Db) => void
}
