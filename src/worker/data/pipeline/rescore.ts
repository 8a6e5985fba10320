import type { Store } from '../../../store'
import type { DeciderId } from '../../../shared/data/rules'
import type { AutoStatus, QualityModelInfo, RuleOutcome } from '../../../shared/data/types'
import { UserError } from '../../../shared/errors'
import { extractFeatures } from '../quality/features'
import {
  MIN_TRAINING_EXAMPLES,
  RULE_SAMPLE,
  fitQualityModel,
  type TrainingExample,
} from '../quality/training'
import { round } from '../text/view'
import { checkCleanable, makeProcessor, type CleanDeps } from './clean'
import { qualityVerdict } from './decide'

const BATCH_DOCS = 512

/** Whether the rules (not dedup, not the model) removed or flagged the document. */
const decidedByRules = (rule: string | null) =>
  rule !== null && rule !== 'quality' && rule !== 'dedup_exact' && rule !== 'dedup_near'

/**
 * Retrain the quality model on the current reviewer decisions (and the last cleaning's rule
 * decisions) and rescore every document with it, without running the rules again.
 * Where the rules kept a document, the new score decides its status through the review
 * band; reviewer decisions stay as they are.
 */
export async function runQualityRetrain(
  datasetId: number,
  deps: Omit<CleanDeps, 'threads'> & { threads?: number },
): Promise<{ datasetId: number; model: QualityModelInfo; changed: number }> {
  const { store } = deps
  const now = () => (deps.now ?? (() => new Date()))().toISOString()
  checkCleanable(store, datasetId)
  const lastRun = store.cleanRuns.lastDone(datasetId)
  if (!lastRun)
    throw new UserError(
      'conflict',
      'Clean this dataset first: the model learns from the rules and scores cleaned text.',
      'datasetId',
    )
  const { rules } = store.ruleSets.forDataset(datasetId)

  deps.progress({ done: 0, total: null, unit: 'documents', message: 'Training the quality model' })
  const fitted = fitQualityModel(store, datasetId, trainingExamples(store, datasetId), now())
  if (!fitted)
    throw new UserError(
      'conflict',
      `Not enough to learn from yet: the model needs at least ${MIN_TRAINING_EXAMPLES} examples with both keep and remove among them (your decisions, or documents the rules decided).`,
    )

  const processor = await makeProcessor(store, datasetId, rules, deps.threads)
  processor.setModel(fitted.model)
  let changed = 0
  let done = 0
  const total = store.documents.count(datasetId)
  try {
    for (const batch of store.documents.cleanedBatches(datasetId, BATCH_DOCS)) {
      deps.throwIfCancelled()
      const scores = new Map((await processor.score(batch)).map((s) => [s.id, s.score]))
      const rows = batch.map((doc) => {
        const score = scores.get(doc.id)!
        const reasons = ((doc.reasons ? JSON.parse(doc.reasons) : []) as RuleOutcome[]).filter(
          (o) => o.rule !== 'quality',
        )
        const dedup = doc.decision_rule === 'dedup_exact' || doc.decision_rule === 'dedup_near'
        const rulesKept = !decidedByRules(doc.decision_rule)
        const verdict = qualityVerdict(score, rulesKept && !dedup, rules.quality)
        reasons.splice(dedup ? reasons.length - 1 : reasons.length, 0, verdict.outcome)
        let autoStatus: AutoStatus | null = null
        let decisionRule: DeciderId | null = null
        if (rulesKept && !dedup) {
          autoStatus = verdict.status ?? 'kept'
          decisionRule = verdict.decides ? 'quality' : null
          if (autoStatus !== doc.auto_status) changed++
        }
        return {
          id: doc.id,
          score: round(score),
          autoStatus,
          decisionRule,
          reasons: JSON.stringify(reasons),
        }
      })
      store.documents.writeScores(rows)
      done += batch.length
      deps.progress({ done, total, unit: 'documents', message: 'Rescoring' })
    }
  } finally {
    await processor.close()
  }
  deps.log(
    'info',
    `Retrained on ${fitted.info.examples} examples (${fitted.info.decisions} reviewer decisions); ${changed} documents changed status.`,
  )
  return { datasetId, model: fitted.info, changed }
}

/** Labels, and a sample of what the last cleaning decided, as training examples. */
function trainingExamples(store: Store, datasetId: number): TrainingExample[] {
  const rows = store.documents.decisionRows(
    datasetId,
    store.documents.sampleIds(datasetId, RULE_SAMPLE),
  )
  const examples: TrainingExample[] = []
  for (const r of rows) {
    if (r.decision) {
      examples.push({
        id: r.id,
        x: extractFeatures(r.text),
        y: r.decision === 'keep' ? 1 : 0,
        source: 'decision',
      })
      continue
    }
    if (decidedByRules(r.decisionRule)) {
      if (r.autoStatus === 'removed')
        examples.push({ id: r.id, x: extractFeatures(r.text), y: 0, source: 'rules' })
    } else if (r.autoStatus !== null)
      examples.push({ id: r.id, x: extractFeatures(r.text), y: 1, source: 'rules' })
  }
  return examples.sort((a, b) => a.id - b.id)
}
