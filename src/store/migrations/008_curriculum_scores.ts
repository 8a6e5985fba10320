import type { Migration } from './types'

/**
 * A reference checkpoint's difficulty score of every training window (mean loss per
 * token, float32), kept so that a curriculum run scores its data once: resuming it, or
 * starting another run with the same reference and data, reads them back.
 */
export const curriculumScores: Migration = {
  version: 8,
  name: 'curriculum scores',
  sql: /* sql */ `
    CREATE TABLE curriculum_scores (
      checkpoint_id INTEGER NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE,
      token_set_id  INTEGER NOT NULL REFERENCES token_sets (id) ON DELETE CASCADE,
      window_tokens INTEGER NOT NULL,   -- tokens per window (the student's context)
      windows       INTEGER NOT NULL,
      difficulty    BLOB NOT NULL,      -- float32 per window, little-endian
      created_at    TEXT NOT NULL,
      PRIMARY KEY (checkpoint_id, token_set_id, window_tokens)
    ) STRICT;
    CREATE INDEX curriculum_scores_by_token_set ON curriculum_scores (token_set_id);
  `,
}
