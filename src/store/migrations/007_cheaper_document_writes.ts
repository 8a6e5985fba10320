import type { Migration } from './types'

/**
 * Cheaper writes of documents, which the import and clean jobs make by the million:
 * - The full-text index is written by the repositories (`SearchIndex`) instead of the
 *   insert and update triggers: a trigger that writes the FTS5 table doubled the cost of
 *   importing and of writing cleaning results. The index's content is unchanged; the
 *   delete trigger stays (it also serves cascading deletes).
 * - MinHash signatures move out of `documents` into the clean job's temporary tables
 *   (they serve only that run's clustering): 896 bytes less per row, which keeps a
 *   typical row within one page.
 */
export const cheaperDocumentWrites: Migration = {
  version: 7,
  name: 'cheaper document writes',
  sql: /* sql */ `
    DROP TRIGGER documents_fts_insert;
    DROP TRIGGER documents_fts_update;
    ALTER TABLE documents DROP COLUMN minhash;
  `,
}
