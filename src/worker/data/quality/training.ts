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

/** Documents sampled from the rules' decisions when training (labels are always all used). */
export const RULE_SAMPLE = 4000
/** One reviewer label counts as this many rule-decided examples: labels are the ground truth. */
export const LABEL_WEIGHT = 10
/** Held-out share, chosen by a hash of the document id (stable across runs). */
const HOLDOUT_EVERY = 5
/** Fewer examples than this make a model that mostly memorizes: none is trained. */
export const MIN_TRAINING_EXAMPLES = 50
/** Label accuracy is only reported over at least this many held-out labels. */
const MIN_LABEL_HOLDOUT = 5

export interface TrainingExample {
  id: number
  x: SparseVector
  y: 0 | 1
  source: 'label' | 'rules'
}

export const isHoldout = (id: number): boolean => (fmix32(id) >>> 0) % HOLDOUT_EVERY === 0

/**
 * Fit the quality model and record it. Examples from reviewer labels outweigh those
 * from rule decisions (LABEL_WEIGHT); a fifth of the documents, chosen by id, is held
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
    weight: e.source === 'label' ? LABEL_WEIGHT : 1,
  })
  const trainSet = examples.filter((e) => !isHoldout(e.id))
  const holdout = examples.filter((e) => isHoldout(e.id))
  const classes = new Set(trainSet.map((e) => e.y))
  if (classes.size < 2 || examples.length < MIN_TRAINING_EXAMPLES) return null
  const model = train(trainSet.map(asExample), defaultTrainOptions)
  const labelHoldout = holdout.filter((e) => e.source === 'label')
  const labels = examples.filter((e) => e.source === 'label').length
  const rules = examples.length - labels
  const info = store.qualityModels.insert({
    datasetId,
    createdAt: now,
    trainedOn: labels === 0 ? 'rules' : rules === 0 ? 'labels' : 'labels+rules',
    examples: examples.length,
    labels,
    holdout: holdout.length,
    holdoutAccuracy: accuracy(model, holdout.map(asExample)),
    labelHoldoutAccuracy:
      labelHoldout.length >= MIN_LABEL_HOLDOUT
        ? accuracy(model, labelHoldout.map(asExample))
        : null,
    config: {
      kind: 'logistic-regression',
      hashBits: HASH_BITS,
      features: FEATURE_COUNT,
      dense: denseFeatureNames,
      labelWeight: LABEL_WEIGHT,
      ...defaultTrainOptions,
    },
    weights: serializeModel(model),
  })
  return { model, info }
}
