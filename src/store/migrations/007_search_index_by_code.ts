import type { Migration } from './types'

/**
 * The full-text index is written by the repositories (`SearchIndex`) instead of the
 * insert and update triggers: a trigger that writes the FTS5 table doubled the cost of
 * importing and of writing cleaning results. The index's content is unchanged; the
 * delete trigger stays (it also serves cascading deletes).
 */
export const searchIndexByCode: Migration = {
  version: 7,
  name: 'search index written by code',
  sql: /* sql */ `
    DROP TRIGGER documents_fts_insert;
    DROP TRIGGER documents_fts_update;
  `,
}
