import type { Db } from '../database'

/** Project-wide key/value facts: creation time, the app version that created it, etc. */
export class MetaRepo {
  private readonly getStmt
  private readonly setStmt

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], { value: string }>(
      'SELECT value FROM project_meta WHERE key = ?',
    )
    this.setStmt = db.prepare(
      'INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    )
  }

  get(key: string): string | null {
    return this.getStmt.get(key)?.value ?? null
  }

  set(key: string, value: string): void {
    this.setStmt.run(key, value)
  }
}
