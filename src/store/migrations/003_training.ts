import type { Migration } from './types'

/**
 * Training: tokenizers, datasets encoded with them (token sets in shards), runs, their
 * metrics, and checkpoints whose tensors are stored one row each: raw, byte-shuffled and
 * deflated, or as the XOR of their float bits against a full checkpoint, shuffled and
 * deflated (lossless deltas).
 */
export const training: Migration = {
  version: 3,
  name: 'training',
  sql: /* sql */ `
    CREATE TABLE tokenizers (
      id         INTEGER PRIMARY KEY,
      name       TEXT NOT NULL UNIQUE,
      kind       TEXT NOT NULL CHECK (kind IN ('bpe', 'char')),
      vocab_size INTEGER NOT NULL,
      dataset_id INTEGER REFERENCES datasets (id) ON DELETE SET NULL, -- trained on
      options    TEXT NOT NULL,               -- JSON training options
      json       TEXT NOT NULL,               -- the Hugging Face tokenizer.json
      stats      TEXT,                        -- JSON: training time, bytes per token, ...
      created_at TEXT NOT NULL
    ) STRICT;

    -- A dataset's kept documents encoded with one tokenizer, split by document.
    CREATE TABLE token_sets (
      id           INTEGER PRIMARY KEY,
      dataset_id   INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      tokenizer_id INTEGER NOT NULL REFERENCES tokenizers (id) ON DELETE CASCADE,
      val_fraction REAL NOT NULL,
      dtype        TEXT NOT NULL CHECK (dtype IN ('uint16', 'uint32')),
      state        TEXT NOT NULL CHECK (state IN ('building', 'ready')),
      train_tokens INTEGER NOT NULL DEFAULT 0,
      val_tokens   INTEGER NOT NULL DEFAULT 0,
      train_docs   INTEGER NOT NULL DEFAULT 0,
      val_docs     INTEGER NOT NULL DEFAULT 0,
      created_at   TEXT NOT NULL
    ) STRICT;
    CREATE INDEX token_sets_by_source ON token_sets (dataset_id, tokenizer_id);

    CREATE TABLE token_shards (
      token_set_id INTEGER NOT NULL REFERENCES token_sets (id) ON DELETE CASCADE,
      split        TEXT NOT NULL CHECK (split IN ('train', 'val')),
      part         INTEGER NOT NULL,
      token_count  INTEGER NOT NULL,
      tokens       BLOB NOT NULL,             -- little-endian ids of the set's dtype
      PRIMARY KEY (token_set_id, split, part)
    ) STRICT;

    CREATE TABLE runs (
      id              TEXT PRIMARY KEY,
      name            TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('created', 'running', 'paused', 'stopped', 'completed', 'failed')),
      model_config    TEXT NOT NULL,          -- JSON ModelConfig
      train_config    TEXT NOT NULL,          -- JSON TrainConfig (threads resolved once started)
      data            TEXT NOT NULL,          -- JSON: where the tokens come from
      token_set_id    INTEGER REFERENCES token_sets (id) ON DELETE SET NULL,
      owner_pid       INTEGER,                -- process training it while status is 'running'
      backend         TEXT,                   -- the backend that trained it, e.g. "wasm 4.22.0"
      parent_run_id   TEXT REFERENCES runs (id) ON DELETE SET NULL, -- forked from
      parent_checkpoint_id INTEGER,
      step            INTEGER NOT NULL DEFAULT 0,
      tokens_seen     INTEGER NOT NULL DEFAULT 0,
      wall_ms         INTEGER NOT NULL DEFAULT 0,
      train_loss      REAL,
      best_val_loss   REAL,
      error           TEXT,
      created_at      TEXT NOT NULL,
      updated_at      TEXT NOT NULL
    ) STRICT;

    CREATE TABLE metrics (
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      name   TEXT NOT NULL,
      step   INTEGER NOT NULL,
      value  REAL NOT NULL,
      PRIMARY KEY (run_id, name, step)
    ) STRICT, WITHOUT ROWID;

    -- Per-step vectors, e.g. each MoE layer's expert load: float32 little-endian.
    CREATE TABLE metric_vectors (
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      name   TEXT NOT NULL,
      step   INTEGER NOT NULL,
      value  BLOB NOT NULL,
      PRIMARY KEY (run_id, name, step)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE checkpoints (
      id           INTEGER PRIMARY KEY,
      run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      step         INTEGER NOT NULL,
      kind         TEXT NOT NULL CHECK (kind IN ('full', 'delta')),
      base_id      INTEGER REFERENCES checkpoints (id), -- the full checkpoint a delta is against
      reason       TEXT NOT NULL,             -- interval, pause, stop, final, rollback
      state        TEXT NOT NULL,             -- JSON: configs, RNG states, loss scale, optimizer step
      raw_bytes    INTEGER NOT NULL,
      stored_bytes INTEGER NOT NULL,
      train_loss   REAL,
      val_loss     REAL,
      created_at   TEXT NOT NULL
    ) STRICT;
    CREATE INDEX checkpoints_by_run ON checkpoints (run_id, step);

    CREATE TABLE checkpoint_tensors (
      checkpoint_id INTEGER NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE,
      name          TEXT NOT NULL,
      shape         TEXT NOT NULL,            -- JSON
      encoding      TEXT NOT NULL CHECK (encoding IN ('raw', 'shuffle-deflate', 'xor-shuffle-deflate')),
      data          BLOB NOT NULL,
      PRIMARY KEY (checkpoint_id, name)
    ) STRICT, WITHOUT ROWID;
  `,
}
