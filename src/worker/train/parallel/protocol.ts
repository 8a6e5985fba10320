import type { ModelConfig } from '../../model/config'
import type { MoeStats } from '../../model/layers/moe'
import type { Precision } from '../../../shared/config/train'
import type { DistillWeights } from '../distill'
import type { HiddenAlignment } from '../hidden-align'
import type { BatchPacking } from '../data'

export interface ReplicaInit {
  type: 'init'
  backend: string
  model: ModelConfig
  precision: Precision
  labelSmoothing: number
  checkpointing: boolean
  /** Distillation settings, when the run has a teacher (its targets come with each step). */
  distill: { temperature: number; alignment: HiddenAlignment | null } | null
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
  /** This step's loss weights, when distilling. */
  distillWeights: Omit<DistillWeights, 'stage'> | null
  /** The teacher's hidden states for each aligned pair (rows × teacher width). */
  teacherHidden: Float32Array[] | null
  /** QAT this step: the activation mode, or null when off. */
  qat: 'dynamic' | 'none' | null
  /** Fine-tuning: this shard's rows' packing (positions, segments, loss weights). */
  packing: BatchPacking | null
}

export type ReplicaMessage =
  | { type: 'ready' }
  | {
      type: 'done'
      loss: number
      aux: number
      kl: number | null
      hidden: number | null
      moe: (MoeStats | null)[]
      tensors: number
    }
  | { type: 'error'; message: string }
