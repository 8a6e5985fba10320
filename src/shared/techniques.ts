import type { ModelConfig } from './config/model'
import type { TrainConfig } from './config/train'

/** The low-cost techniques a run used, as short labels ("MoE, aux-free", "QAT from 90%"). */
export function runTechniques(
  model: ModelConfig,
  train: TrainConfig,
  data: { init?: unknown; teacher?: unknown },
): string[] {
  const out: string[] = []
  if (model.moe)
    out.push(`MoE ${model.moe.routedExperts}×top-${model.moe.topK}, ${model.moe.balance}`)
  if (train.precision !== 'fp32') out.push(train.precision)
  if (train.qatStart !== null) out.push(`QAT from ${Math.round(train.qatStart * 100)}%`)
  if (data.teacher) out.push(`distilled (α ${train.distillAlpha}, T ${train.distillTemperature})`)
  if (train.curriculum !== 'off') out.push(`curriculum (${train.curriculum})`)
  if (train.contextWarmupSteps > 0) out.push('progressive context')
  if (train.batchWarmupSteps > 0) out.push('progressive batch')
  if (train.tokenBudget !== null) out.push(`token budget ${train.tokenBudget}`)
  if (train.adaptiveBatch) out.push('adaptive batch')
  if (train.gradientCheckpointing) out.push('gradient checkpointing')
  if (data.init) out.push('from a checkpoint')
  return out
}

/** Relative difference of a lower-is-better figure, and the report's verdict (tie under 0.5%). */
export function compareLower(
  value: number,
  baseline: number,
): { percent: number; verdict: 'better' | 'worse' | 'tie' } {
  const percent = ((value - baseline) / baseline) * 100
  return { percent, verdict: Math.abs(percent) < 0.5 ? 'tie' : percent < 0 ? 'better' : 'worse' }
}
