import type { Migration } from './types'

/**
 * A distillation teacher's predictions, computed once and read back by every run that
 * distils from the same checkpoint on the same encoded data: per window of the training
 * tokens, the top-k token ids and their probabilities at the temperature, per position.
 */
export const teacherCaches: Migration = {
  version: 6,
  name: 'teacher caches',
  sql: /* sql */ `
    CREATE TABLE teacher_caches (
      id            INTEGER PRIMARY KEY,
      checkpoint_id INTEGER NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE,
      token_set_id  INTEGER NOT NULL REFERENCES token_sets (id) ON DELETE CASCADE,
      window_tokens INTEGER NOT NULL,   -- tokens per window (the student's context)
      temperature   REAL NOT NULL,
      top_k         INTEGER NOT NULL,
      windows       INTEGER NOT NULL,
      state         TEXT NOT NULL CHECK (state IN ('building', 'ready')),
      created_at    TEXT NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX teacher_caches_by_key
      ON teacher_caches (checkpoint_id, token_set_id, window_tokens, temperature, top_k);

    CREATE TABLE teacher_cache_windows (
      cache_id     INTEGER NOT NULL REFERENCES teacher_caches (id) ON DELETE CASCADE,
      window_index INTEGER NOT NULL,
      ids          BLOB NOT NULL,       -- int32 LE, window_tokens × top_k
      probs        BLOB NOT NULL,       -- bfloat16 LE, the same shape
      PRIMARY KEY (cache_id, window_index)
    ) STRICT, WITHOUT ROWID;
  `,
}
