import type { Migration } from './types'

/**
 * The data pipeline: imports (so a cancelled or crashed one can be undone), saved rule
 * sets, cleaning runs, each document's cleaning outcome (status, who decided, why,
 * redactions, language, score, duplicate cluster), reviewer labels, quality models and a
 * full-text index over original and cleaned text.
 */
export const dataPipeline: Migration = {
  version: 2,
  name: 'data_pipeline',
  sql: /* sql */ `
    -- Named cleaning configurations: the ordered rules with their parameters.
    CREATE TABLE rule_sets (
      id         INTEGER PRIMARY KEY,
      name       TEXT NOT NULL UNIQUE,
      rules      TEXT NOT NULL,               -- JSON RuleSet (shared/data/rules.ts), validated on read
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT;

    -- A dataset stays 'importing' (hidden from lists) until its first import commits.
    ALTER TABLE datasets ADD COLUMN state TEXT NOT NULL DEFAULT 'ready'
      CHECK (state IN ('importing', 'ready'));
    -- The rule set its cleaning uses; NULL means the defaults.
    ALTER TABLE datasets ADD COLUMN rule_set_id INTEGER REFERENCES rule_sets (id) ON DELETE SET NULL;

    -- One import into a dataset. Until 'done', its documents are provisional: a cancelled
    -- import deletes them, and one whose process died is deleted on the next data job.
    CREATE TABLE imports (
      id          INTEGER PRIMARY KEY,
      dataset_id  INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      job_id      TEXT NOT NULL,
      owner_pid   INTEGER NOT NULL,
      state       TEXT NOT NULL CHECK (state IN ('running', 'done')),
      request     TEXT NOT NULL,              -- JSON: paths, format, text field
      report      TEXT,                       -- JSON ImportReport, when done
      started_at  TEXT NOT NULL,
      finished_at TEXT
    ) STRICT;
    CREATE INDEX imports_by_dataset ON imports (dataset_id);

    -- One run of the cleaning pipeline over a dataset, with the exact rules it used.
    CREATE TABLE clean_runs (
      id          INTEGER PRIMARY KEY,
      dataset_id  INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      job_id      TEXT NOT NULL,
      owner_pid   INTEGER NOT NULL,
      rules       TEXT NOT NULL,              -- JSON RuleSet snapshot
      state       TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
      summary     TEXT,                       -- JSON CleanSummary, when done
      started_at  TEXT NOT NULL,
      finished_at TEXT
    ) STRICT;
    CREATE INDEX clean_runs_by_dataset ON clean_runs (dataset_id, id);

    ALTER TABLE documents ADD COLUMN import_id INTEGER REFERENCES imports (id) ON DELETE CASCADE;
    -- The text after cleaning (noise stripped, normalized, lines filtered, PII redacted).
    ALTER TABLE documents ADD COLUMN cleaned_text TEXT;
    -- Effective status: the reviewer's decision when there is one, else the pipeline's.
    ALTER TABLE documents ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
      CHECK (status IN ('pending', 'kept', 'removed', 'review'));
    -- What the pipeline decided on its own, kept apart so a reviewer's override is visible.
    ALTER TABLE documents ADD COLUMN auto_status TEXT
      CHECK (auto_status IN ('kept', 'removed', 'review'));
    ALTER TABLE documents ADD COLUMN decided_by TEXT
      CHECK (decided_by IN ('rules', 'dedup', 'model', 'reviewer'));
    -- The rule behind the automatic decision (the first that removed or flagged it).
    ALTER TABLE documents ADD COLUMN decision_rule TEXT;
    -- 1 when cleaning changed the text.
    ALTER TABLE documents ADD COLUMN modified INTEGER NOT NULL DEFAULT 0 CHECK (modified IN (0, 1));
    ALTER TABLE documents ADD COLUMN reasons TEXT;       -- JSON RuleOutcome[]: every rule's measurements and verdict
    ALTER TABLE documents ADD COLUMN redactions TEXT;    -- JSON Redaction[]: typed spans in cleaned_text
    ALTER TABLE documents ADD COLUMN language TEXT;      -- ISO 639-1 code, or NULL when undetected
    ALTER TABLE documents ADD COLUMN language_score REAL;
    ALTER TABLE documents ADD COLUMN quality_score REAL; -- P(keep) from the quality model
    ALTER TABLE documents ADD COLUMN char_count INTEGER NOT NULL DEFAULT 0;     -- of cleaned (else original) text
    ALTER TABLE documents ADD COLUMN token_estimate INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE documents ADD COLUMN content_hash TEXT;  -- 64-bit hash of the normalized text, hex
    ALTER TABLE documents ADD COLUMN minhash BLOB;       -- 112 x 64-bit MinHash signature
    -- Duplicate cluster: the id of the document kept for it (that document carries it too).
    ALTER TABLE documents ADD COLUMN dup_cluster INTEGER;
    ALTER TABLE documents ADD COLUMN dup_similarity REAL; -- estimated Jaccard with the kept one

    UPDATE documents SET char_count = length(text), token_estimate = (length(text) + 3) / 4;

    CREATE INDEX documents_by_status ON documents (dataset_id, status);
    CREATE INDEX documents_by_import ON documents (import_id);
    CREATE INDEX documents_by_cluster ON documents (dup_cluster) WHERE dup_cluster IS NOT NULL;

    -- A reviewer's verdict (feeds the quality model), tags and note, one row per document.
    CREATE TABLE document_labels (
      document_id INTEGER PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
      dataset_id  INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      decision    TEXT CHECK (decision IN ('keep', 'remove')), -- NULL: tags or a note only
      tags        TEXT NOT NULL DEFAULT '[]',  -- JSON string[]
      note        TEXT NOT NULL DEFAULT '',
      updated_at  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX document_labels_by_dataset ON document_labels (dataset_id, updated_at);

    -- Fitted quality models; the newest per dataset scores its documents.
    CREATE TABLE quality_models (
      id                     INTEGER PRIMARY KEY,
      dataset_id             INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      created_at             TEXT NOT NULL,
      trained_on             TEXT NOT NULL CHECK (trained_on IN ('rules', 'labels', 'labels+rules')),
      examples               INTEGER NOT NULL,
      labels                 INTEGER NOT NULL,   -- reviewer labels among the examples
      holdout                INTEGER NOT NULL,   -- held-out examples
      holdout_accuracy       REAL,
      label_holdout_accuracy REAL,               -- on held-out reviewer labels only
      config                 TEXT NOT NULL,      -- JSON: features and hyperparameters
      weights                BLOB NOT NULL       -- float32, little-endian
    ) STRICT;
    CREATE INDEX quality_models_by_dataset ON quality_models (dataset_id, id);

    -- Full-text search over original and cleaned text. Contentless (the text lives once,
    -- in documents) with delete support; detail=column (terms and column filters, no
    -- phrase queries) indexes about three times faster than full detail. The text column
    -- always holds the original; cleaned_text is indexed only where cleaning changed the
    -- text (modified = 1), so cleaning re-indexes just the documents it changed.
    CREATE VIRTUAL TABLE documents_fts USING fts5 (
      text, cleaned_text, content = '', contentless_delete = 1, detail = column,
      tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO documents_fts (rowid, text, cleaned_text)
      SELECT id, text, CASE WHEN modified = 1 THEN cleaned_text END FROM documents;
    CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
      INSERT INTO documents_fts (rowid, text, cleaned_text)
        VALUES (new.id, new.text, CASE WHEN new.modified = 1 THEN new.cleaned_text END);
    END;
    CREATE TRIGGER documents_fts_update AFTER UPDATE OF text, cleaned_text, modified ON documents
    WHEN old.text IS NOT new.text OR old.modified IS NOT new.modified
      OR (new.modified = 1 AND old.cleaned_text IS NOT new.cleaned_text)
    BEGIN
      DELETE FROM documents_fts WHERE rowid = old.id;
      INSERT INTO documents_fts (rowid, text, cleaned_text)
        VALUES (new.id, new.text, CASE WHEN new.modified = 1 THEN new.cleaned_text END);
    END;
    CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
      DELETE FROM documents_fts WHERE rowid = old.id;
    END;
  `,
}
