import type { Migration } from './types'

/**
 * "Label" meant two things: a reviewer's keep/remove verdict (document_labels, and what
 * the quality model learns from) and the tags a reviewer toggles with keys 1-9
 * (label_defs, document_tags). The verdict is now a decision everywhere: its table, its
 * indexes, and the quality model's record of how many it learned from and its accuracy on
 * them. "Label" is left to the tags, as the Review screen calls them.
 */
export const decisionNaming: Migration = {
  version: 12,
  name: 'decision naming',
  sql: /* sql */ `
    ALTER TABLE document_labels RENAME TO document_decisions;
    DROP INDEX document_labels_by_dataset;
    DROP INDEX document_labels_by_decision;
    CREATE INDEX document_decisions_by_dataset ON document_decisions (dataset_id, updated_at);
    CREATE INDEX document_decisions_by_decision
      ON document_decisions (dataset_id, decision, updated_at);

    -- A CHECK constraint's values change only with the table: rebuilt (nothing refers to it).
    CREATE TABLE quality_models_new (
      id                        INTEGER PRIMARY KEY,
      dataset_id                INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      created_at                TEXT NOT NULL,
      trained_on                TEXT NOT NULL
                                CHECK (trained_on IN ('rules', 'decisions', 'decisions+rules')),
      examples                  INTEGER NOT NULL,
      decisions                 INTEGER NOT NULL,  -- reviewer decisions among the examples
      holdout                   INTEGER NOT NULL,  -- held-out examples
      holdout_accuracy          REAL,
      decision_holdout_accuracy REAL,              -- on held-out reviewer decisions only
      config                    TEXT NOT NULL,     -- JSON: features and hyperparameters
      weights                   BLOB NOT NULL      -- float32, little-endian
    ) STRICT;
    INSERT INTO quality_models_new
      SELECT id, dataset_id, created_at,
             CASE trained_on WHEN 'labels' THEN 'decisions'
                             WHEN 'labels+rules' THEN 'decisions+rules'
                             ELSE trained_on END,
             examples, labels, holdout, holdout_accuracy, label_holdout_accuracy, config, weights
      FROM quality_models;
    DROP TABLE quality_models;
    ALTER TABLE quality_models_new RENAME TO quality_models;
    CREATE INDEX quality_models_by_dataset ON quality_models (dataset_id, id);
  `,
}
