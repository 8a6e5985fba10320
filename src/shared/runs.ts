import type { RunKind } from './config/train'
import type { ModelConfig } from './config/model'
import type { TrainConfig } from './config/train'
import type { BackendState } from './types'

export type RunStatus = 'created' | 'running' | 'paused' | 'stopped' | 'completed' | 'failed'

export interface RunListItem {
  id: string
  name: string
  status: RunStatus
  /** The backend that trained it ("wasm 4.22.0 (1 thread, SIMD)"), once started. */
  backend: string | null
  step: number
  steps: number
  tokensSeen: number
  wallMs: number
  trainLoss: number | null
  bestValLoss: number | null
  createdAt: string
  updatedAt: string
  parentRunId: string | null
  datasetName: string | null
  tokenizerName: string | null
  moe: boolean
  /** What the run learns (train.kind): pretraining, SFT, DPO, SimPO, a reward model, GRPO. */
  kind: RunKind
  precision: string
  parameters: number
  activeParameters: number
  /** The job training it now, if any. */
  jobId: string | null
  error: string | null
  /** Checkpoints saved: the run can be evaluated, sampled and exported once there is one. */
  checkpointCount: number
  /** Energy used, in joules, where the machine reports it (RAPL, nvidia-smi); else null. */
  energyJ: number | null
  /** The low-cost techniques it trains with (runTechniques), for reports. */
  techniques: string[]
}

export interface CheckpointSummary {
  id: number
  step: number
  kind: 'full' | 'delta'
  reason: string
  rawBytes: number
  storedBytes: number
  trainLoss: number | null
  valLoss: number | null
  createdAt: string
}

export interface RunDetail extends RunListItem {
  model: ModelConfig
  train: TrainConfig
  data: {
    /** Null for a model imported from a folder. */
    datasetId: number | null
    tokenizerId: number
    valFraction: number
    importedFrom?: string
    /** The checkpoint whose weights it started from. */
    init?: { runId: string; checkpointId: number }
    /** The checkpoint it distils from. */
    teacher?: { runId: string; checkpointId: number }
    /** The checkpoint whose loss scores its curriculum. */
    reference?: { runId: string; checkpointId: number }
  }
  checkpoints: CheckpointSummary[]
}

/** One metric, downsampled for display (the project keeps every point). */
export interface MetricSeries {
  step: number[]
  value: number[]
}

export interface RunMetrics {
  /** Every metric the run has recorded. */
  names: string[]
  series: Record<string, MetricSeries>
  lastStep: number
}

/** Expert load over time per MoE layer: load[layer][sample][expert] = share of assignments. */
export interface ExpertLoad {
  layers: number[]
  steps: number[]
  experts: number
  load: number[][][]
}

/** What the run form weighs estimates against. */
export interface TrainEnvironment {
  backend: BackendState
  /** Threads a run uses when it does not set them. */
  defaultThreads: number
  cpus: number
  /** Per-thread heap limit of the backend (wasm: 4 GiB), or null when only system memory bounds it. */
  heapLimitBytes: number | null
  systemMemory: { total: number; free: number }
}
