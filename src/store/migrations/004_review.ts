import type { Migration } from './types'

/**
 * The review workspace: label definitions per dataset and the labels on documents, the
 * reviewer's action history (undo and redo survive a restart), where each queue was left,
 * audit samples, and ratings and pairwise preferences of model outputs.
 */
export const review: Migration = {
  version: 4,
  name: 'review',
  sql: /* sql */ `
    -- A dataset's labels: toggled on documents with keys 1-9, filterable, exported.
    CREATE TABLE label_defs (
      id         INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      name       TEXT NOT NULL,
      key        TEXT CHECK (key IS NULL OR (length(key) = 1 AND key BETWEEN '1' AND '9')),
      color      TEXT NOT NULL,
      position   INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (dataset_id, name)
    );
    CREATE UNIQUE INDEX label_defs_by_key ON label_defs (dataset_id, key) WHERE key IS NOT NULL;

    CREATE TABLE document_tags (
      document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
      label_id    INTEGER NOT NULL REFERENCES label_defs (id) ON DELETE CASCADE,
      created_at  TEXT NOT NULL,
      PRIMARY KEY (document_id, label_id)
    ) WITHOUT ROWID;
    CREATE INDEX document_tags_by_label ON document_tags (label_id, document_id);

    -- Free-form tags (migration 002) become label definitions.
    INSERT INTO label_defs (dataset_id, name, key, color, position, created_at)
      SELECT l.dataset_id, t.value, NULL, '#6b7280',
             ROW_NUMBER() OVER (PARTITION BY l.dataset_id ORDER BY t.value), max(l.updated_at)
      FROM document_labels l, json_each(l.tags) t
      GROUP BY l.dataset_id, t.value;
    INSERT OR IGNORE INTO document_tags (document_id, label_id, created_at)
      SELECT l.document_id, d.id, l.updated_at
      FROM document_labels l, json_each(l.tags) t
      JOIN label_defs d ON d.dataset_id = l.dataset_id AND d.name = t.value;
    ALTER TABLE document_labels DROP COLUMN tags;

    -- Every change a reviewer makes, newest last. Undo marks an action undone and puts each
    -- document's field back; a new action discards the undone ones (they were the redo stack).
    CREATE TABLE review_actions (
      id          INTEGER PRIMARY KEY,
      dataset_id  INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      field       TEXT NOT NULL CHECK (field IN ('decision', 'label', 'note')),
      label_id    INTEGER REFERENCES label_defs (id) ON DELETE CASCADE,
      summary     TEXT NOT NULL,
      -- The document to show again on undo (single-document actions).
      document_id INTEGER REFERENCES documents (id) ON DELETE SET NULL,
      documents   INTEGER NOT NULL,
      undone      INTEGER NOT NULL DEFAULT 0,
      created_at  TEXT NOT NULL
    );
    CREATE INDEX review_actions_by_dataset ON review_actions (dataset_id, id);
    -- Before and after, per document: a decision ('keep', 'remove', NULL), a label ('1', '0')
    -- or a note.
    CREATE TABLE review_action_items (
      action_id   INTEGER NOT NULL REFERENCES review_actions (id) ON DELETE CASCADE,
      document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
      before      TEXT,
      after       TEXT,
      PRIMARY KEY (action_id, document_id)
    ) WITHOUT ROWID;

    -- Where the reviewer stopped in each queue, so it resumes there.
    CREATE TABLE review_positions (
      dataset_id  INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      queue       TEXT NOT NULL,
      document_id INTEGER NOT NULL,
      updated_at  TEXT NOT NULL,
      PRIMARY KEY (dataset_id, queue)
    ) WITHOUT ROWID;

    -- Random audit samples of what the pipeline kept or removed, in a fixed random order.
    CREATE TABLE review_samples (
      id         INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      of_status  TEXT NOT NULL CHECK (of_status IN ('kept', 'removed')),
      size       INTEGER NOT NULL,
      seed       INTEGER NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE review_sample_docs (
      sample_id   INTEGER NOT NULL REFERENCES review_samples (id) ON DELETE CASCADE,
      position    INTEGER NOT NULL,
      document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
      PRIMARY KEY (sample_id, position)
    ) WITHOUT ROWID;

    -- Queue orders, so the next document is an index seek on a million documents.
    CREATE INDEX documents_review_uncertain ON documents
      (dataset_id, auto_status, coalesce(abs(quality_score - 0.5), 1), id);
    CREATE INDEX documents_by_rule ON documents (dataset_id, decision_rule, id);
    CREATE INDEX documents_by_score ON documents (dataset_id, quality_score, id);
    CREATE INDEX document_labels_by_decision ON document_labels (dataset_id, decision, updated_at);

    -- Model outputs rated 1-5, and pairs of outputs for one prompt with the preferred one:
    -- the evaluation screens write them, preference training reads them.
    CREATE TABLE ratings (
      id         INTEGER PRIMARY KEY,
      prompt     TEXT NOT NULL,
      output     TEXT NOT NULL,
      source     TEXT,                         -- JSON: what produced the output
      score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
      reasons    TEXT NOT NULL DEFAULT '[]',   -- JSON string[]
      note       TEXT NOT NULL DEFAULT '',
      created_at TEXT NOT NULL
    );
    CREATE TABLE preferences (
      id         INTEGER PRIMARY KEY,
      prompt     TEXT NOT NULL,
      output_a   TEXT NOT NULL,
      output_b   TEXT NOT NULL,
      source_a   TEXT,
      source_b   TEXT,
      choice     TEXT NOT NULL CHECK (choice IN ('a', 'b', 'tie')),
      note       TEXT NOT NULL DEFAULT '',
      created_at TEXT NOT NULL
    );
  `,
}
