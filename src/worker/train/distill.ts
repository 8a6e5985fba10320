import type { TrainConfig } from './config'

/** The weights of a distilling step's loss terms: w_ce·CE + w_kl·T²·KL + w_hidden·MSE. */
export interface DistillWeights {
  ce: number
  kl: number
  hidden: number
  /** The staged schedule's stage (1 hidden states, 2 logits, 3 labels too); null unstaged. */
  stage: 1 | 2 | 3 | null
}

/**
 * The loss mix at `step`. Unstaged: α·CE + (1−α)·T²·KL + β·MSE throughout. Staged (the
 * three-stage recipe): hidden states only until the first boundary (the logits instead when
 * there is no hidden alignment), then the teacher's logits only, then everything.
 */
export function distillWeights(c: TrainConfig, step: number, hasHidden: boolean): DistillWeights {
  const hidden = hasHidden ? c.distillHiddenWeight : 0
  const full = { ce: c.distillAlpha, kl: 1 - c.distillAlpha, hidden }
  const stages = c.distillStages
  if (!stages) return { ...full, stage: null }
  const fraction = step / c.steps
  if (fraction < stages.hidden && hidden > 0) return { ce: 0, kl: 0, hidden, stage: 1 }
  if (fraction < stages.logits) return { ce: 0, kl: 1, hidden: 0, stage: 2 }
  return { ...full, stage: 3 }
}
