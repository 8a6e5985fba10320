import type { DocRule, DedupConfig } from '../../../shared/data/rules'
import { fingerprint } from '../dedup/fingerprint'
import { extractFeatures, type SparseVector } from '../quality/features'
import { predict, type LogisticModel } from '../quality/logistic'
import { applyRules } from '../rules'
import { estimateTokens } from '../text/view'

/** What a thread needs to clean documents: the rules, dedup settings, and a model to score with. */
export interface ProcessConfig {
  rules: readonly DocRule[]
  dedup: DedupConfig
}

/** One document through the rules, hashed for dedup and scored: what the clean job writes. */
export interface ProcessedDoc {
  id: number
  /** The cleaned text, or null when the rules left it unchanged (it is not sent twice). */
  cleaned: string | null
  modified: boolean
  action: 'keep' | 'remove' | 'review'
  decisionRule: DocRule['id'] | null
  /**
   * JSON of every rule's RuleOutcome and of the redactions (null: none), as stored:
   * serialized on the thread, so the job's thread copies one string per document instead
   * of a tree of objects, and writes it as it comes.
   */
  reasons: string
  redactions: string | null
  language: string | null
  languageScore: number | null
  charCount: number
  tokenEstimate: number
  contentHash: string
  signature: Uint32Array | null
  score: number | null
  features: SparseVector | null
}

/**
 * Clean one document. Dedup fingerprints are computed only for documents the rules
 * keep (removed ones never compete for a cluster); the score for every document.
 */
export function processDocument(
  doc: { id: number; text: string },
  config: ProcessConfig,
  model: LogisticModel | null,
  wantFeatures: boolean,
): ProcessedDoc {
  const r = applyRules(doc.text, config.rules)
  let contentHash = ''
  let signature: Uint32Array | null = null
  const dedupOn = config.dedup.exact.enabled || config.dedup.near.enabled
  if (dedupOn && r.action !== 'remove') {
    const near = config.dedup.near
    const f = fingerprint(r.cleaned, {
      shingleWords: near.shingleWords,
      bins: near.bands * near.rows,
      signature: near.enabled,
    })
    contentHash = f.hash
    signature = f.signature
  }

  const features = model || wantFeatures ? extractFeatures(r.cleaned) : null
  return {
    id: doc.id,
    cleaned: r.modified ? r.cleaned : null,
    modified: r.modified,
    action: r.action,
    decisionRule: r.decisionRule,
    reasons: JSON.stringify(r.outcomes),
    redactions: r.redactions.length > 0 ? JSON.stringify(r.redactions) : null,
    language: r.language,
    languageScore: r.languageScore,
    charCount: r.cleaned.length,
    tokenEstimate: estimateTokens(r.cleaned),
    contentHash,
    signature,
    score: model && features ? predict(model, features) : null,
    features: wantFeatures ? features : null,
  }
}

/** Score already-cleaned texts (the quality job's rescoring). */
export function scoreTexts(
  docs: readonly { id: number; text: string }[],
  model: LogisticModel,
): { id: number; score: number }[] {
  return docs.map((d) => ({ id: d.id, score: predict(model, extractFeatures(d.text)) }))
}
