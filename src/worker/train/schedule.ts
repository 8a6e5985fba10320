import type { TrainConfig } from './config'

/** Learning rate at `step` (0-based): linear warmup, then cosine (or linear) decay to the floor. */
export function learningRate(c: TrainConfig, step: number): number {
  if (step < c.warmupSteps) return (c.learningRate * (step + 1)) / c.warmupSteps
  if (c.schedule === 'constant') return c.learningRate
  const decay = c.decaySteps ?? c.steps
  if (step >= decay) return c.minLearningRate
  const progress = (step - c.warmupSteps) / Math.max(1, decay - c.warmupSteps)
  const shape = c.schedule === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress
  return c.minLearningRate + shape * (c.learningRate - c.minLearningRate)
}

/** DropPath rate of `layer` at `step`: rises with depth, and ramps up over training. */
export function dropPathRate(c: TrainConfig, layers: number, layer: number, step: number): number {
  if (c.dropPath === 0) return 0
  const ramp = Math.min(1, (step + 1) / (c.dropPathRampSteps ?? c.steps))
  return c.dropPath * ((layer + 1) / layers) * ramp
}

/** Context lengths are multiples of this while they grow: few distinct shapes to compile. */
const CONTEXT_QUANTUM = 8

/**
 * Sequence length at `step` (progressive context, a length curriculum): linear from
 * `contextStart` (default a quarter of the context) to the full context over
 * `contextWarmupSteps`, in multiples of 8. Short sequences early are cheap and stable.
 */
export function contextLengthAt(c: TrainConfig, context: number, step: number): number {
  if (c.contextWarmupSteps === 0 || step >= c.contextWarmupSteps) return context
  const start = Math.min(
    context,
    c.contextStart ?? Math.max(CONTEXT_QUANTUM, Math.round(context / 4)),
  )
  const T = start + ((context - start) * step) / c.contextWarmupSteps
  return Math.min(context, Math.max(start, Math.floor(T / CONTEXT_QUANTUM) * CONTEXT_QUANTUM))
}

/**
 * Sequences per micro-batch at `step` for sequences of T tokens: with a token budget, as
 * many as fit in it (a batch of short sequences holds more of them); else the batch size,
 * growing linearly from `batchStart` over `batchWarmupSteps` when that is set.
 */
export function batchSizeAt(c: TrainConfig, T: number, step: number): number {
  if (c.tokenBudget !== null) return Math.max(1, Math.floor(c.tokenBudget / T))
  if (c.batchWarmupSteps === 0 || step >= c.batchWarmupSteps) return c.batchSize
  const start = Math.min(c.batchSize, c.batchStart ?? Math.max(1, Math.ceil(c.batchSize / 4)))
  return Math.round(start + ((c.batchSize - start) * step) / c.batchWarmupSteps)
}
