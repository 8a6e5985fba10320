import { z } from 'zod'
import { entityId, filePath } from './common'
import { method } from './define'
import { deciderIds, ruleSetSchema, type RuleSet } from '../data/rules'
import {
  documentStatuses,
  importFormats,
  type DatasetStats,
  type DocumentDetail,
  type DocumentListItem,
  type DocumentPage,
  type ImportReport,
  type SavedRuleSet,
} from '../data/types'
import type { JobRecord } from '../jobs'

const datasetRef = z.object({ datasetId: entityId }).strict()

/** The data pipeline: import, cleaning rules, documents and their reasons, labels, statistics. */
export const dataApi = {
  'data.stats': method<DatasetStats>()(datasetRef),
  /** What each import into the dataset brought in and skipped (with file and line). */
  'data.imports': method<ImportReport[]>()(datasetRef),
  /** Start an import of files or folders on this machine (or uploaded: see Transport.fileToPath). */
  'data.import': method<JobRecord>()(
    z
      .object({
        dataset: z.string().trim().min(1, 'Name the dataset.').max(200, 'That name is too long.'),
        paths: z.array(filePath).min(1, 'Choose at least one file or folder.').max(1000),
        format: z.enum(importFormats).default('auto'),
        textField: z.string().trim().min(1).max(200).optional(),
      })
      .strict(),
  ),
  /** Clean with the dataset's rule set (or the defaults). */
  'data.clean': method<JobRecord>()(datasetRef),
  /** Retrain the quality model on the current labels and rescore. */
  'data.retrain': method<JobRecord>()(datasetRef),
  'data.export': method<JobRecord>()(
    z
      .object({
        datasetId: entityId,
        status: z.enum(['kept', 'removed', 'review', 'all']).default('kept'),
        out: filePath,
        overwrite: z.boolean().default(false),
      })
      .strict(),
  ),
  /** Hides the dataset at once and starts the `data.delete` job that removes it. */
  'data.deleteDataset': method<JobRecord>()(datasetRef),
  'data.documents': method<DocumentPage>()(
    z
      .object({
        datasetId: entityId,
        status: z.enum(documentStatuses).optional(),
        rule: z.enum(deciderIds).optional(),
        language: z.string().max(10).optional(),
        cluster: entityId.optional(),
        modified: z.boolean().optional(),
        /** Only documents a reviewer decided (true), or none decided (false). */
        decided: z.boolean().optional(),
        search: z.string().max(500).optional(),
        minScore: z.number().min(0).max(1).optional(),
        maxScore: z.number().min(0).max(1.01).optional(),
        sort: z.enum(['id', 'score_asc', 'score_desc']).default('id'),
        offset: z.int().min(0).default(0),
        limit: z.int().min(1).max(200).default(50),
      })
      .strict(),
  ),
  'data.document': method<DocumentDetail>()(z.object({ id: entityId }).strict()),
  /**
   * A reviewer's decision, keep or remove (null clears it), and note. Every `retrainEvery`
   * new decisions the quality model retrains by itself; the job is returned when it starts.
   */
  'data.decide': method<{ document: DocumentListItem; retrainJob: JobRecord | null }>()(
    z
      .object({
        documentId: entityId,
        decision: z.enum(['keep', 'remove']).nullable().optional(),
        note: z.string().max(10_000).optional(),
      })
      .strict(),
  ),
  /** The rules a dataset's cleaning uses, and the saved rule set they come from (null: defaults). */
  'data.rules': method<{ ruleSetId: number | null; name: string | null; rules: RuleSet }>()(
    datasetRef,
  ),
  'data.ruleSets': method<SavedRuleSet[]>()(z.object({}).strict().optional().default({})),
  /** Save rules under a name (replacing a set of that name) and use them for the dataset. */
  'data.saveRules': method<SavedRuleSet>()(
    z
      .object({
        datasetId: entityId,
        name: z.string().trim().min(1, 'Name the rule set.').max(100),
        rules: ruleSetSchema,
      })
      .strict(),
  ),
  /** Use a saved rule set for the dataset, or the defaults (null). */
  'data.useRules': method<void>()(
    z.object({ datasetId: entityId, ruleSetId: entityId.nullable() }).strict(),
  ),
}
