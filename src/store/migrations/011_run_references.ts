import type { Migration } from './types'

/**
 * What a run refers to becomes columns the schema checks: its tokenizer and the
 * checkpoints it starts from (init), learns from (teacher) and is scored by (reference)
 * move out of the `runs.data` JSON. Deleting a tokenizer or a checkpoint (with its run)
 * that another run uses is then refused by SQLite itself (RESTRICT), not by a query
 * someone must remember to write.
 *
 * The dataset stays in the JSON on purpose: a run outlives its dataset (a user may delete
 * the documents and keep the model), so the dataset id is history, not a reference.
 *
 * A reference that already pointed at nothing (a file edited by hand) becomes NULL: the
 * run then has no such source, which is what it had in effect. The tokenizer id then stays
 * in the JSON so the run can still name what it was trained with.
 */
export const runReferences: Migration = {
  version: 11,
  name: 'run references',
  sql: /* sql */ `
    ALTER TABLE runs ADD COLUMN tokenizer_id INTEGER REFERENCES tokenizers (id) ON DELETE RESTRICT;
    ALTER TABLE runs ADD COLUMN init_checkpoint_id INTEGER REFERENCES checkpoints (id) ON DELETE RESTRICT;
    ALTER TABLE runs ADD COLUMN teacher_checkpoint_id INTEGER REFERENCES checkpoints (id) ON DELETE RESTRICT;
    ALTER TABLE runs ADD COLUMN reference_checkpoint_id INTEGER REFERENCES checkpoints (id) ON DELETE RESTRICT;

    UPDATE runs SET
      tokenizer_id = (SELECT id FROM tokenizers WHERE id = json_extract(runs.data, '$.tokenizerId')),
      init_checkpoint_id =
        (SELECT id FROM checkpoints WHERE id = json_extract(runs.data, '$.init.checkpointId')),
      teacher_checkpoint_id =
        (SELECT id FROM checkpoints WHERE id = json_extract(runs.data, '$.teacher.checkpointId')),
      reference_checkpoint_id =
        (SELECT id FROM checkpoints WHERE id = json_extract(runs.data, '$.reference.checkpointId'));
    UPDATE runs SET data = json_remove(data, '$.init', '$.teacher', '$.reference');
    UPDATE runs SET data = json_remove(data, '$.tokenizerId') WHERE tokenizer_id IS NOT NULL;

    -- A tokenizer's or checkpoint's deletion looks these up (the RESTRICT check).
    CREATE INDEX runs_tokenizer ON runs (tokenizer_id);
    CREATE INDEX runs_init_checkpoint ON runs (init_checkpoint_id);
    CREATE INDEX runs_teacher_checkpoint ON runs (teacher_checkpoint_id);
    CREATE INDEX runs_reference_checkpoint ON runs (reference_checkpoint_id);
  `,
}
