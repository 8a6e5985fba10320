import type { Migration } from './types'

/** The foundation: project metadata, job history and logs, datasets and their documents. */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  sql: /* sql */ `
    CREATE TABLE project_meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE jobs (
      id          TEXT PRIMARY KEY,
      kind        TEXT NOT NULL,
      params      TEXT NOT NULL,             -- JSON, validated
      state       TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled')),
      progress    TEXT,                      -- JSON JobProgress, last one reported
      result      TEXT,                      -- JSON, on success
      error       TEXT,                      -- JSON ApiError, on failure
      owner_pid   INTEGER,                   -- supervising process, to detect orphans after a crash
      created_at  TEXT NOT NULL,
      started_at  TEXT,
      finished_at TEXT
    ) STRICT;
    CREATE INDEX jobs_by_created ON jobs (created_at);
    CREATE INDEX jobs_by_state ON jobs (state);

    CREATE TABLE job_logs (
      id      INTEGER PRIMARY KEY,
      job_id  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      at      TEXT NOT NULL,
      level   TEXT NOT NULL CHECK (level IN ('info','warn','error')),
      message TEXT NOT NULL
    ) STRICT;
    CREATE INDEX job_logs_by_job ON job_logs (job_id, id);

    CREATE TABLE datasets (
      id          INTEGER PRIMARY KEY,
      name        TEXT NOT NULL UNIQUE,
      description TEXT NOT NULL DEFAULT '',
      created_at  TEXT NOT NULL
    ) STRICT;

    CREATE TABLE documents (
      id         INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      source     TEXT NOT NULL,              -- file path or record id it came from
      text       TEXT NOT NULL,              -- as imported
      meta       TEXT                        -- JSON: other fields kept from the source
    ) STRICT;
    CREATE INDEX documents_by_dataset ON documents (dataset_id, id);
  `,
}
