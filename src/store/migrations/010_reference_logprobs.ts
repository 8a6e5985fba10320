import type { Migration } from './types'

/**
 * DPO's reference: each preference pair's two reply log-probabilities under the checkpoint
 * a run starts from, kept so that resuming the run, or another run on the same pairs from
 * the same checkpoint, reads them back instead of running the reference model again. The
 * pairs are identified by a digest of their token ids and trained masks (any change to the
 * data, the tokenizer or the template gives another digest).
 */
export const referenceLogprobs: Migration = {
  version: 10,
  name: 'reference log-probabilities',
  sql: /* sql */ `
    CREATE TABLE reference_logprobs (
      checkpoint_id INTEGER NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE,
      pairs_digest  TEXT NOT NULL,      -- sha256 of the pairs' ids and masks
      pairs         INTEGER NOT NULL,
      logprobs      BLOB NOT NULL,      -- float32 LE: chosen of every pair, then rejected
      created_at    TEXT NOT NULL,
      PRIMARY KEY (checkpoint_id, pairs_digest)
    ) STRICT;
  `,
}
