import type { Migration } from './types'

/**
 * Evaluations of checkpoints (perplexity, multiple-choice benchmarks): what was measured,
 * on what, and the result, so runs and checkpoints can be compared later.
 */
export const evals: Migration = {
  version: 5,
  name: 'evals',
  sql: /* sql */ `
    CREATE TABLE evals (
      id            INTEGER PRIMARY KEY,
      run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      checkpoint_id INTEGER REFERENCES checkpoints (id) ON DELETE SET NULL,
      step          INTEGER NOT NULL,
      kind          TEXT NOT NULL CHECK (kind IN ('perplexity', 'mc')),
      params        TEXT NOT NULL,   -- JSON: what it ran on
      result        TEXT NOT NULL,   -- JSON: what it measured
      created_at    TEXT NOT NULL
    );
    CREATE INDEX evals_by_run ON evals (run_id, id);
  `,
}
