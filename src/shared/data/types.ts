import type { DatasetSummary } from '../types'
import type { DeciderId } from './rules'

/** Shapes the data pipeline stores and the API returns. */

export const importFormats = [
  'auto',
  'txt',
  'txt-blocks',
  'jsonl',
  'csv',
  'parquet',
  'html',
] as const
export type ImportFormat = (typeof importFormats)[number]

/** A record that could not be imported: where it is and why. `line` is 1-based; null for a whole file. */
export interface ImportIssue {
  file: string
  line: number | null
  message: string
}

export interface ImportReport {
  dataset: string
  datasetId: number
  /** Documents added. */
  imported: number
  /** Records not imported (malformed, empty, unreadable files). */
  skipped: number
  files: number
  bytes: number
  /** The first issues (at most 1000); `skipped` counts them all. */
  errors: ImportIssue[]
}

export const documentStatuses = ['pending', 'kept', 'removed', 'review'] as const
export type DocumentStatus = (typeof documentStatuses)[number]
export type AutoStatus = Exclude<DocumentStatus, 'pending'>
export type DecidedBy = 'rules' | 'dedup' | 'model' | 'reviewer'

/** What a rule did to a document. */
export type RuleAction = 'keep' | 'modify' | 'remove' | 'review'

/** One rule's record for one document: what it measured and what it decided. */
export interface RuleOutcome {
  rule: DeciderId
  action: RuleAction
  /** The check that fired (e.g. "mean_word_length"), when the rule removed or flagged it. */
  check?: string
  /** The measured value of that check, and the threshold it crossed. */
  value?: number | string
  threshold?: number | string
  /** Everything the rule measured, rounded. */
  measures: Record<string, number | string | boolean>
  /** One readable sentence. */
  note?: string
}

export type RedactionType = 'EMAIL' | 'PHONE' | 'IP' | 'CREDIT_CARD' | 'BLOCKED'

/** A placeholder in the cleaned text: [start, end) in UTF-16 code units, and what it replaced. */
export interface Redaction {
  type: RedactionType
  start: number
  end: number
  value: string
}

/** A dataset as the app lists it: the store's summary with its counts by status. */
export interface DataDatasetSummary extends DatasetSummary {
  characters: number
  counts: Record<DocumentStatus, number>
  /** The last finished cleaning, or null. */
  cleanedAt: string | null
  ruleSetId: number | null
}

export interface CleanSummary {
  /** Kept unchanged, kept with changes, removed, needing review: they sum to `documents`. */
  kept: number
  modified: number
  removed: number
  review: number
  documents: number
  /** Documents removed or flagged, by the rule that decided. */
  byRule: Partial<Record<DeciderId, number>>
  duplicateClusters: number
  /**
   * Wall time of each phase, ms. The main pass (rules) starts as soon as the training
   * sample is dispatched, so it overlaps training (which ends once the model is fitted).
   */
  timings: { train: number; rules: number; dedup: number; total: number }
  /** Characters processed by the rules. */
  characters: number
  model: QualityModelInfo | null
}

export interface QualityModelInfo {
  id: number
  createdAt: string
  /** What it learned from: the rules' decisions, the reviewers', or both. */
  trainedOn: 'rules' | 'decisions' | 'decisions+rules'
  examples: number
  /** Reviewer decisions among the examples. */
  decisions: number
  holdout: number
  /** Agreement with the held-out targets (reviewer and rule decisions). */
  holdoutAccuracy: number | null
  /** On held-out reviewer decisions only, when there are enough. */
  decisionHoldoutAccuracy: number | null
}

export interface HistogramBin {
  from: number
  to: number
  count: number
}

export interface DatasetStats {
  datasetId: number
  documents: number
  characters: number
  /** ~4 characters per token for Latin scripts, 1 per CJK character: a rough guide. */
  estimatedTokens: number
  /** Of documents kept (kept status), the same three. */
  kept: { documents: number; characters: number; estimatedTokens: number }
  counts: Record<DocumentStatus, number>
  modified: number
  languages: { language: string; documents: number }[]
  /** Documents removed or sent to review, by deciding rule. */
  byRule: { rule: DeciderId; removed: number; review: number }[]
  scoreHistogram: HistogramBin[]
  duplicates: {
    clusters: number
    /** Documents removed as duplicates. */
    removed: number
    largest: { clusterId: number; size: number; preview: string }[]
  }
  redactions: Partial<Record<RedactionType, number>>
  lastClean: { at: string; state: string; summary: CleanSummary | null } | null
  model: QualityModelInfo | null
  /** Reviewer decisions (keep or remove) on its documents. */
  decisions: { keep: number; remove: number }
  /** Decisions made or changed since the model was trained. */
  decisionsSinceModel: number
}

export interface DocumentListItem {
  id: number
  source: string
  /** The first characters of the cleaned text (or of the original before cleaning). */
  preview: string
  status: DocumentStatus
  decidedBy: DecidedBy | null
  decisionRule: DeciderId | null
  modified: boolean
  language: string | null
  qualityScore: number | null
  characters: number
  dupCluster: number | null
  /** A reviewer's decision, overriding the pipeline's (null: none). */
  decision: 'keep' | 'remove' | null
}

export interface DocumentPage {
  total: number
  items: DocumentListItem[]
}

export interface DocumentDetail extends DocumentListItem {
  datasetId: number
  text: string
  cleanedText: string | null
  autoStatus: AutoStatus | null
  reasons: RuleOutcome[]
  redactions: Redaction[]
  languageScore: number | null
  dupSimilarity: number | null
  meta: Record<string, unknown> | null
  note: string
  /** Ids of the labels it carries (review label definitions of its dataset). */
  labels: number[]
  /** When a reviewer last changed its decision, labels or note. */
  reviewedAt: string | null
  /** Other members of its duplicate cluster (first 50). */
  cluster: { id: number; similarity: number | null; status: DocumentStatus; preview: string }[]
}

export interface SavedRuleSet {
  id: number
  name: string
  updatedAt: string
}
