import type { Store } from '../../../store'
import type { QualityModelInfo } from '../../../shared/data/types'
import { fmix32 } from '../dedup/hash'
import { FEATURE_COUNT, HASH_BITS, denseFeatureNames, type SparseVector } from './features'
import {
  accuracy,
  defaultTrainOptions,
  serializeModel,
  train,
  type Example,
  type LogisticModel,
} from './logistic'

/** Documents sampled from the rules' decisions when training (reviewer decisions are always all used). */
export const RULE_SAMPLE = 4000
/** One reviewer decision counts as this many rule-decided examples: they are the ground truth. */
export const DECISION_WEIGHT = 10
/** Held-out share, chosen by a hash of the document id (stable across runs). */
const HOLDOUT_EVERY = 5
/** Fewer examples than this make a model that mostly memorizes: none is trained. */
export const MIN_TRAINING_EXAMPLES = 50
/** Label accuracy is only reported over at least this many held-out labels. */
const MIN_DECISION_HOLDOUT = 5

export interface TrainingExample {
  id: number
  x: SparseVector
  y: 0 | 1
  source: 'decision' | 'rules'
}

export const isHoldout = (id: number): boolean => (fmix32(id) >>> 0) % HOLDOUT_EVERY === 0

/**
 * Fit the quality model and record it. Examples from reviewer decisions outweigh those
 * from rule decisions (DECISION_WEIGHT); a fifth of the documents, chosen by id, is held
 * out to measure accuracy. Returns null when there is too little to learn from (fewer
 * than MIN_TRAINING_EXAMPLES, or only one class).
 */
export function fitQualityModel(
  store: Store,
  datasetId: number,
  examples: readonly TrainingExample[],
  now: string,
): { model: LogisticModel; info: QualityModelInfo } | null {
  const asExample = (e: TrainingExample): Example => ({
    x: e.x,
    y: e.y,
    weight: e.source === 'decision' ? DECISION_WEIGHT : 1,
  })
  const trainSet = examples.filter((e) => !isHoldout(e.id))
  const holdout = examples.filter((e) => isHoldout(e.id))
  const classes = new Set(trainSet.map((e) => e.y))
  if (classes.size < 2 || examples.length < MIN_TRAINING_EXAMPLES) return null
  const model = train(trainSet.map(asExample), defaultTrainOptions)
  const decisionHoldout = holdout.filter((e) => e.source === 'decision')
  const decisions = examples.filter((e) => e.source === 'decision').length
  const rules = examples.length - decisions
  const info = store.qualityModels.insert({
    datasetId,
    createdAt: now,
    trainedOn: decisions === 0 ? 'rules' : rules === 0 ? 'decisions' : 'decisions+rules',
    examples: examples.length,
    decisions,
    holdout: holdout.length,
    holdoutAccuracy: accuracy(model, holdout.map(asExample)),
    decisionHoldoutAccuracy:
      decisionHoldout.length >= MIN_DECISION_HOLDOUT
        ? accuracy(model, decisionHoldout.map(asExample))
        : null,
    config: {
      kind: 'logistic-regression',
      hashBits: HASH_BITS,
      features: FEATURE_COUNT,
      dense: denseFeatureNames,
      decisionWeight: DECISION_WEIGHT,
      ...defaultTrainOptions,
    },
    weights: serializeModel(model),
  })
  return { model, info }
}
