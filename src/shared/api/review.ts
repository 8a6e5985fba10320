import { z } from 'zod'
import { entityId, filePath } from './common'
import { method } from './define'
import type { JobRecord } from '../jobs'
import {
  bulkChangeSchema,
  outputSourceSchema,
  queueSchema,
  reviewDecisions,
  stepDirections,
  type LabelDef,
  type Preference,
  type QueueCounts,
  type QueueMember,
  type Rating,
  type ReviewAction,
  type ReviewDocument,
  type ReviewOverview,
  type SampleSummary,
} from '../review'

const datasetRef = z.object({ datasetId: entityId }).strict()

/** Where to go after a change, so one round trip saves and shows the next document. */
const advance = z
  .object({ queue: queueSchema, direction: z.enum(['next', 'nextUnreviewed']) })
  .strict()

/** What a change returns: the action (null if nothing changed) and what to show now. */
export interface ReviewChange {
  action: ReviewAction | null
  /** The changed document, or the next one when asked to advance (null: the queue is done). */
  document: ReviewDocument | null
  /** A quality-model retraining the change started, if any. */
  retrainJob: JobRecord | null
}

const labelKey = z
  .string()
  .regex(/^[1-9]$/, 'A key is one digit, 1 to 9.')
  .nullable()

/** The review workspace: queues, decisions with undo, labels, bulk changes, audit samples. */
export const reviewApi = {
  /** Labels, samples, queues by rule, progress, the model's accuracy and the undo state. */
  'review.overview': method<ReviewOverview>()(datasetRef),
  'review.counts': method<QueueCounts>()(z.object({ queue: queueSchema }).strict()),
  /** A page of a queue in its order (the queue list). */
  'review.members': method<QueueMember[]>()(
    z
      .object({
        queue: queueSchema,
        offset: z.int().min(0).default(0),
        limit: z.int().min(1).max(500).default(100),
      })
      .strict(),
  ),
  /**
   * Move through a queue: the document to show (null: none), whose place is saved so the
   * queue resumes there.
   */
  'review.step': method<ReviewDocument | null>()(
    z
      .object({
        queue: queueSchema,
        from: entityId.nullable().default(null),
        direction: z.enum(stepDirections),
      })
      .strict(),
  ),
  /** Keep or remove a document (null clears the decision); saved before the answer. */
  'review.decide': method<ReviewChange>()(
    z
      .object({
        documentId: entityId,
        decision: z.enum(reviewDecisions).nullable(),
        advance: advance.optional(),
      })
      .strict(),
  ),
  /** Put a label on or take it off (`on` omitted: toggle). */
  'review.label': method<ReviewChange>()(
    z.object({ documentId: entityId, labelId: entityId, on: z.boolean().optional() }).strict(),
  ),
  'review.note': method<ReviewChange>()(
    z
      .object({
        documentId: entityId,
        note: z.string().max(10_000, 'Notes are at most 10,000 characters.'),
      })
      .strict(),
  ),
  /** Revert the newest change (or re-apply the one undone last); shows the document it touched. */
  'review.undo': method<ReviewChange>()(datasetRef),
  'review.redo': method<ReviewChange>()(datasetRef),
  /** How many documents of the queue a bulk change would change, of how many. */
  'review.bulkPreview': method<{ changes: number; total: number }>()(
    z.object({ queue: queueSchema, change: bulkChangeSchema }).strict(),
  ),
  'review.bulk': method<ReviewChange>()(
    z.object({ queue: queueSchema, change: bulkChangeSchema }).strict(),
  ),
  'review.saveLabel': method<LabelDef>()(
    z
      .object({
        datasetId: entityId,
        id: entityId.optional(),
        name: z
          .string()
          .trim()
          .min(1, 'Name the label.')
          .max(50, 'Label names are at most 50 characters.'),
        key: labelKey,
        color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'A colour is #rrggbb.'),
      })
      .strict(),
  ),
  'review.deleteLabel': method<void>()(z.object({ id: entityId }).strict()),
  'review.createSample': method<SampleSummary>()(
    z
      .object({
        datasetId: entityId,
        of: z.enum(['kept', 'removed']),
        size: z.int().min(1, 'Sample at least one document.').max(100_000),
        seed: z
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .optional(),
      })
      .strict(),
  ),
  'review.deleteSample': method<void>()(z.object({ id: entityId }).strict()),
  /** Retrain the quality model on the decisions now (the queue re-ranks when it finishes). */
  'review.retrain': method<JobRecord>()(datasetRef),
  /** Write every reviewed document (decision, labels, note, time) as JSON Lines. */
  'review.export': method<JobRecord>()(
    z
      .object({ datasetId: entityId, out: filePath, overwrite: z.boolean().default(false) })
      .strict(),
  ),
}

const text = (what: string) =>
  z.string().min(1, `The ${what} is empty.`).max(100_000, `The ${what} is too long.`)

/** Ratings (1-5) and pairwise preferences of model outputs. */
export const ratingsApi = {
  'ratings.rate': method<Rating>()(
    z
      .object({
        prompt: text('prompt'),
        output: text('output'),
        source: outputSourceSchema.nullable().optional(),
        score: z.int().min(1, 'Rate from 1 to 5.').max(5, 'Rate from 1 to 5.'),
        reasons: z.array(z.string().trim().min(1).max(50)).max(20).optional(),
        note: z.string().max(10_000).optional(),
      })
      .strict(),
  ),
  'ratings.prefer': method<Preference>()(
    z
      .object({
        prompt: text('prompt'),
        outputA: text('first output'),
        outputB: text('second output'),
        sourceA: outputSourceSchema.nullable().optional(),
        sourceB: outputSourceSchema.nullable().optional(),
        choice: z.enum(['a', 'b', 'tie']),
        note: z.string().max(10_000).optional(),
      })
      .strict(),
  ),
  'ratings.list': method<{
    ratings: { total: number; items: Rating[] }
    preferences: { total: number; items: Preference[] }
  }>()(
    z
      .object({ limit: z.int().min(1).max(500).default(100), offset: z.int().min(0).default(0) })
      .strict()
      .optional()
      .default({ limit: 100, offset: 0 }),
  ),
  /** Wins of source a over source b (by their labels, or "run@checkpoint"), either side shown. */
  'ratings.winRate': method<{ a: number; b: number; ties: number }>()(
    z.object({ a: z.string().min(1).max(200), b: z.string().min(1).max(200) }).strict(),
  ),
  'ratings.delete': method<void>()(
    z.object({ kind: z.enum(['rating', 'preference']), id: entityId }).strict(),
  ),
  /**
   * Export as JSON Lines: ratings, preferences as recorded, or preference pairs
   * (`{prompt, chosen, rejected}`, ties left out) ready for preference training.
   */
  'ratings.export': method<JobRecord>()(
    z
      .object({
        kind: z.enum(['ratings', 'preferences', 'pairs']),
        out: filePath,
        overwrite: z.boolean().default(false),
      })
      .strict(),
  ),
}
