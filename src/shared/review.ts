import { z } from 'zod'
import { deciderIds } from './data/rules'
import { documentStatuses, type DocumentDetail, type QualityModelInfo } from './data/types'

/**
 * The review workspace's shapes: queues of documents to decide, labels, the action
 * history behind undo and redo, progress, and ratings and preferences of model outputs.
 */

export const reviewDecisions = ['keep', 'remove'] as const
export type ReviewDecision = (typeof reviewDecisions)[number]

/**
 * Which documents a queue holds and in what order. The order is stable: a queue resumes
 * where the reviewer stopped, and documents decided in it stay in it (marked reviewed).
 */
export const queueSourceSchema = z.discriminatedUnion('kind', [
  /** What the pipeline sent to review, most uncertain quality score first (active learning). */
  z.object({ kind: z.literal('uncertain') }).strict(),
  /** A random audit sample of what the pipeline kept or removed, in its random order. */
  z.object({ kind: z.literal('audit'), sampleId: z.int().positive() }).strict(),
  /** What one rule (or dedup, or the quality model) removed or flagged. */
  z.object({ kind: z.literal('rule'), rule: z.enum(deciderIds) }).strict(),
  /** Documents carrying a label. */
  z.object({ kind: z.literal('label'), labelId: z.int().positive() }).strict(),
  /** Documents whose quality score is in [min, max), lowest first. */
  z
    .object({
      kind: z.literal('score'),
      min: z.number().min(0).max(1),
      max: z.number().min(0).max(1.01),
    })
    .strict(),
  /** The members of one duplicate cluster. */
  z.object({ kind: z.literal('cluster'), cluster: z.int().positive() }).strict(),
  /** Documents with an effective status (after the reviewer's decisions). */
  z.object({ kind: z.literal('status'), status: z.enum(documentStatuses) }).strict(),
  /** Every document of the dataset. */
  z.object({ kind: z.literal('all') }).strict(),
])
export type QueueSource = z.infer<typeof queueSourceSchema>

export const queueSchema = z
  .object({
    datasetId: z.int().positive(),
    source: queueSourceSchema,
    /** Full-text search (original and cleaned text) within the queue. */
    search: z.string().trim().max(500).optional(),
  })
  .strict()
export type Queue = z.infer<typeof queueSchema>

/** The name a queue's position is saved under: the same queue resumes at the same place. */
export function queueKey(q: Pick<Queue, 'source' | 'search'>): string {
  return JSON.stringify({ ...q.source, search: q.search || undefined })
}

export const stepDirections = ['at', 'first', 'resume', 'next', 'prev', 'nextUnreviewed'] as const
export type StepDirection = (typeof stepDirections)[number]

export interface LabelDef {
  id: number
  datasetId: number
  name: string
  /** The key that toggles it, '1'-'9', or null. */
  key: string | null
  /** CSS colour. */
  color: string
  position: number
  /** Documents carrying it. */
  documents: number
}

/** A document as the review screen shows it. */
export type ReviewDocument = DocumentDetail

export interface QueueCounts {
  /** Documents in the queue. */
  total: number
  /** Of those, without a reviewer's decision. */
  remaining: number
}

export interface QueueMember {
  id: number
  preview: string
  status: DocumentDetail['status']
  qualityScore: number | null
  decision: ReviewDecision | null
}

/** One entry of the undo history. */
export interface ReviewAction {
  id: number
  field: 'decision' | 'label' | 'note'
  summary: string
  documents: number
  /** The document to show when it is undone or redone (single-document actions). */
  documentId: number | null
  createdAt: string
}

export interface SampleSummary {
  id: number
  of: 'kept' | 'removed'
  size: number
  reviewed: number
  createdAt: string
}

export interface ReviewProgress {
  /** Documents with a reviewer's decision. */
  reviewed: number
  keep: number
  remove: number
  /** Decisions per hour over the last hour of reviewing, once there are a few minutes of it. */
  ratePerHour: number | null
  /**
   * Reviewer decisions on documents the pipeline had decided (kept or removed), and how
   * many agree with it: how far the automatic decisions can be trusted.
   */
  agreement: { compared: number; agreed: number }
}

export interface ReviewOverview {
  labels: LabelDef[]
  samples: SampleSummary[]
  /** Deciders with the documents each removed or flagged. */
  rules: { rule: (typeof deciderIds)[number]; documents: number }[]
  uncertain: QueueCounts
  progress: ReviewProgress
  /** The quality model now and the one before it: accuracy before and after decisions. */
  model: { current: QualityModelInfo | null; previous: QualityModelInfo | null }
  /** Decisions since the model was trained, and after how many it retrains by itself (0: never). */
  decisionsSinceModel: number
  retrainEvery: number
  /** What undo and redo would do now. */
  undo: ReviewAction | null
  redo: ReviewAction | null
  /** Whether the dataset was ever cleaned (nothing to review before). */
  cleaned: boolean
}

/** A change applied to every document of a queue. */
export const bulkChangeSchema = z.discriminatedUnion('field', [
  z.object({ field: z.literal('decision'), decision: z.enum(reviewDecisions).nullable() }).strict(),
  z.object({ field: z.literal('label'), labelId: z.int().positive(), on: z.boolean() }).strict(),
])
export type BulkChange = z.infer<typeof bulkChangeSchema>

/* Ratings and preferences of model outputs. */

/** What produced an output: a run's checkpoint and the generation settings, or a name. */
export const outputSourceSchema = z
  .object({
    runId: z.string().max(64).optional(),
    checkpointId: z.int().positive().optional(),
    label: z.string().max(200).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
export type OutputSource = z.infer<typeof outputSourceSchema>

export const ratingReasons = [
  'accurate',
  'helpful',
  'fluent',
  'inaccurate',
  'off-topic',
  'repetitive',
  'incoherent',
  'unsafe',
] as const

export interface Rating {
  id: number
  prompt: string
  output: string
  source: OutputSource | null
  score: number
  reasons: string[]
  note: string
  createdAt: string
}

export interface Preference {
  id: number
  prompt: string
  outputA: string
  outputB: string
  sourceA: OutputSource | null
  sourceB: OutputSource | null
  choice: 'a' | 'b' | 'tie'
  note: string
  createdAt: string
}
