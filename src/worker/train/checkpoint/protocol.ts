export interface WriteRequest {
  type: 'write'
  id: number
  runId: string
  step: number
  reason: string
  state: unknown
  tensors: { name: string; shape: number[]; values: Float32Array }[]
  trainLoss: number | null
  valLoss: number | null
  fullEvery: number
  keep: number
}

export type WriterReply =
  | { type: 'ready' }
  | {
      type: 'written'
      id: number
      checkpointId: number
      kind: 'full' | 'delta'
      rawBytes: number
      storedBytes: number
      pruned: number
      ms: number
    }
  | { type: 'error'; id: number; message: string }
