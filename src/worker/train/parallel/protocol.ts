import type { ModelConfig } from '../../model/config'
import type { MoeStats } from '../../model/layers/moe'
import type { Precision } from '../precision'

export interface ReplicaInit {
  type: 'init'
  backend: string
  model: ModelConfig
  precision: Precision
  labelSmoothing: number
  checkpointing: boolean
  /** Distillation settings, when the run has a teacher (its soft targets come with each step). */
  distill: { alpha: number; temperature: number } | null
  /** All parameters, written by the main thread after each update. */
  params: SharedArrayBuffer
  /** This replica's gradients of the trainable parameters. */
  grads: SharedArrayBuffer
}

export interface ReplicaStep {
  type: 'step'
  /** Bumped whenever the main thread republishes parameters. */
  paramsVersion: number
  inputs: Int32Array
  targets: Int32Array
  B: number
  T: number
  dropPath: (Float32Array | null)[] | null
  lossScale: number
  /** This shard's teacher probabilities (rows × vocabulary), when distilling. */
  teacher: Float32Array | null
  /** QAT this step: the activation mode, or null when off. */
  qat: 'dynamic' | 'none' | null
}

export type ReplicaMessage =
  | { type: 'ready' }
  | {
      type: 'done'
      loss: number
      aux: number
      kl: number | null
      moe: (MoeStats | null)[]
      tensors: number
    }
  | { type: 'error'; message: string }
