import type { DocRule, DedupConfig } from '../../../shared/data/rules'
import { fingerprint } from '../dedup/fingerprint'
import { extractFeatures, transientFeatures, type SparseVector } from '../quality/features'
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
 * Clean a batch of documents. Their signatures share one buffer: the structured clone
 * that carries the results to the job's thread then copies one array, not one per
 * document, and neither side allocates a typed array per document.
 */
export function processBatch(
  docs: readonly { id: number; text: string }[],
  config: ProcessConfig,
  model: LogisticModel | null,
  wantFeatures: boolean,
): ProcessedDoc[] {
  const near = config.dedup.near
  const size = near.enabled ? 2 * near.bands * near.rows : 0
  const signatures = new Uint32Array(docs.length * size)
  return docs.map((doc, i) =>
    processDocument(
      doc,
      config,
      model,
      wantFeatures,
      signatures.subarray(i * size, (i + 1) * size),
    ),
  )
}

/**
 * Clean one document. Dedup fingerprints are computed only for documents the rules
 * keep (removed ones never compete for a cluster); the score for every document.
 * `signatureOut`: where to write its MinHash signature (else a new array).
 */
export function processDocument(
  doc: { id: number; text: string },
  config: ProcessConfig,
  model: LogisticModel | null,
  wantFeatures: boolean,
  signatureOut?: Uint32Array,
): ProcessedDoc {
  const r = applyRules(doc.text, config.rules)
  let contentHash = ''
  let signature: Uint32Array | null = null
  const dedupOn = config.dedup.exact.enabled || config.dedup.near.enabled
  if (dedupOn && r.action !== 'remove') {
    const near = config.dedup.near
    const f = fingerprint(
      r.cleaned,
      { shingleWords: near.shingleWords, bins: near.bands * near.rows, signature: near.enabled },
      signatureOut,
    )
    contentHash = f.hash
    signature = f.signature
  }

  const features = wantFeatures ? extractFeatures(r.cleaned) : null
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
    score: model ? predict(model, features ?? transientFeatures(r.cleaned)) : null,
    features: wantFeatures ? features : null,
  }
}

/** Score already-cleaned texts (the quality job's rescoring). */
export function scoreTexts(
  docs: readonly { id: number; text: string }[],
  model: LogisticModel,
): { id: number; score: number }[] {
  return docs.map((d) => ({ id: d.id, score: predict(model, transientFeatures(d.text)) }))
}
