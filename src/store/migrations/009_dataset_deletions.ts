import type { Migration } from './types'

/**
 * Datasets being deleted. Deleting a large dataset takes seconds to minutes (every
 * document leaves the table, its indexes and the full-text index), so it runs as a job,
 * in chunks. Its dataset is marked here first, in one quick transaction, and renamed so
 * that its name is free at once: from then on it is listed nowhere, and a deletion that
 * was cancelled or whose process died is resumed when the project is next opened. The
 * row goes with its dataset (cascade) when the deletion finishes.
 */
export const datasetDeletions: Migration = {
  version: 9,
  name: 'dataset deletions',
  sql: /* sql */ `
    CREATE TABLE dataset_deletions (
      dataset_id   INTEGER PRIMARY KEY REFERENCES datasets (id) ON DELETE CASCADE,
      name         TEXT NOT NULL,     -- the dataset's name when deletion was asked for
      requested_at TEXT NOT NULL
    ) STRICT;
  `,
}
