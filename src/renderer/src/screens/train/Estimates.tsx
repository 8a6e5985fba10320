import { AlertTriangle } from 'lucide-react'
import type { ModelConfig } from '../../../../shared/config/model'
import { trainsOnOneThread, type TrainConfig } from '../../../../shared/config/train'
import { estimateRun } from '../../../../shared/estimate'
import type { TrainEnvironment } from '../../../../shared/runs'
import { formatBytes, formatCount, formatDuration } from '../../format'
import { formatParams } from './RunStatus'

interface EstimatesProps {
  model: ModelConfig
  train: TrainConfig
  env: TrainEnvironment | undefined
  /** Measured milliseconds per step for this configuration, when calibrated. */
  msPerStep: number | null
}

/** What the run will cost, recomputed on every edit, against what this machine has. */
export function Estimates({ model, train, env, msPerStep }: EstimatesProps) {
  const threads = train.threads ?? (trainsOnOneThread(train) ? 1 : (env?.defaultThreads ?? 1))
  const e = estimateRun(model, train, threads)
  const mem = e.memory
  const heapLimit = env?.heapLimitBytes ?? null
  const system = env?.systemMemory.free ?? null
  const overHeap = heapLimit !== null && mem.perThread > heapLimit
  const overSystem = system !== null && mem.total > system
  const withCkpt = { ...train, gradientCheckpointing: !train.gradientCheckpointing }
  const other = estimateRun(model, withCkpt, threads).memory
  return (
    <div className="stack">
      <dl className="facts">
        <dt>Parameters</dt>
        <dd>
          {formatParams(e.params.total)}
          {model.moe && ` (${formatParams(e.params.active)} active per token)`}
          {train.lora && `; ${formatParams(mem.trained)} trained (the LoRA adapters)`}
        </dd>
        <dt>Compute</dt>
        <dd>{(e.flopsPerToken / 1e6).toFixed(1)} MFLOP per token (training)</dd>
        <dt>Tokens</dt>
        <dd>
          {formatCount(e.tokensPerStep)} per step, {formatCount(e.totalTokens)} in all
        </dd>
        <dt>Memory</dt>
        <dd>
          {formatBytes(mem.total)} in all: weights {formatBytes(mem.weights)}
          {mem.int8Weights > 0 && ` and ${formatBytes(mem.int8Weights)} in int8 on the host`},
          optimizer {formatBytes(mem.optimizer)}, step peak{' '}
          {formatBytes(train.gradientCheckpointing ? mem.stepPeak.checkpointed : mem.stepPeak.full)}{' '}
          per thread ({threads} thread
          {threads === 1 ? '' : 's'})
        </dd>
        <dt>Checkpointing</dt>
        <dd>
          {train.gradientCheckpointing ? 'On' : 'Off'}: turning it{' '}
          {train.gradientCheckpointing ? 'off' : 'on'} would need {formatBytes(other.total)}
        </dd>
        <dt>Time</dt>
        <dd>
          {msPerStep === null
            ? 'Time a step to estimate it.'
            : `${formatDuration(msPerStep * train.steps)} for ${formatCount(train.steps)} steps (${Math.round(msPerStep)} ms per step, ${formatCount(
                Math.round((e.tokensPerStep / msPerStep) * 1000),
              )} tokens/s)`}
        </dd>
      </dl>
      {(overHeap || overSystem) && (
        <div className="notice" data-tone="error" role="alert">
          <AlertTriangle size={16} aria-hidden style={{ flex: 'none', marginTop: 2 }} />
          <div>
            This run will not fit:{' '}
            {overHeap
              ? `a thread needs ${formatBytes(mem.perThread)}, over the ${formatBytes(heapLimit ?? 0)} a WebAssembly heap can hold.`
              : `it needs ${formatBytes(mem.total)} and ${formatBytes(system ?? 0)} is free.`}{' '}
            Lower the batch size (and raise gradient accumulation to keep the tokens per step)
            {train.gradientCheckpointing ? '' : ', or turn on gradient checkpointing'}.
          </div>
        </div>
      )}
    </div>
  )
}
