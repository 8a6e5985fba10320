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
