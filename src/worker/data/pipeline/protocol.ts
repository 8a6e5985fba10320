import type { ProcessConfig, ProcessedDoc } from './process'

/** Messages between the clean job and its worker threads (same process: no validation needed). */
export type ToThread =
  | { type: 'process'; seq: number; docs: { id: number; text: string }[]; features: boolean }
  | { type: 'score'; seq: number; docs: { id: number; text: string }[] }
  | { type: 'model'; weights: Float32Array | null; bias: number }

export type FromThread =
  | { type: 'processed'; seq: number; docs: ProcessedDoc[] }
  | { type: 'scored'; seq: number; scores: { id: number; score: number }[] }
  | { type: 'error'; seq: number; message: string }

export interface ThreadData {
  config: ProcessConfig
}
