import * as tf from '@tensorflow/tfjs-core'
import { UserError } from '../../shared/errors'
import type { CheckpointInfo } from '../../store/repos/checkpoints'
import type { RunRow } from '../../store/repos/runs'
import type { Store } from '../../store'
import { modelConfigSchema, type ModelConfig } from '../model/config'
import type { Params } from '../model/model'
import { paramSpecs } from '../model/params'
import { fromJSON, type Tokenizer } from '../tokenizer'
import { runChatTemplate } from '../sft/templates'
import { checkpointWeights } from '../train/checkpoint/weights'

/** A checkpoint's model, ready for inference: config, weights, tokenizer. */
export interface LoadedModel {
  run: RunRow
  checkpoint: CheckpointInfo
  config: ModelConfig
  /** Parameters as float32 arrays, by Frugal name. */
  weights: Map<string, Float32Array>
  tokenizer: Tokenizer
  /**
   * The chat template: the one the run was fine-tuned with, else the one an imported
   * tokenizer came with (tokenizer_config.json); null for a pretrained Frugal model.
   */
  chatTemplate: string | null
}

/** A run and one of its checkpoints (the newest when none is named), or a clear message. */
export function resolveCheckpoint(
  store: Store,
  runId: string,
  checkpointId?: number | null,
): { run: RunRow; checkpoint: CheckpointInfo } {
  const run = store.runs.get(runId)
  if (!run) throw new UserError('not_found', `There is no run ${runId}.`, 'runId')
  const checkpoint =
    checkpointId === null || checkpointId === undefined
      ? store.checkpoints.latest(runId)
      : (store.checkpoints.list(runId).find((c) => c.id === checkpointId) ?? null)
  if (!checkpoint)
    throw new UserError(
      'not_found',
      checkpointId
        ? `Run ${run.name} has no checkpoint ${checkpointId}.`
        : `Run ${run.name} has no checkpoint yet: train it until it saves one.`,
      'checkpointId',
    )
  return { run, checkpoint }
}

/** A run's checkpoint (the newest when none is named): its weights, config and tokenizer. */
export function loadCheckpoint(
  store: Store,
  runId: string,
  checkpointId?: number | null,
): LoadedModel {
  const { run, checkpoint } = resolveCheckpoint(store, runId, checkpointId)
  const config = modelConfigSchema.parse(run.modelConfig)
  const weights = checkpointWeights(store, checkpoint.id)
  const tokenizerId = (run.data as { tokenizerId: number }).tokenizerId
  const json = store.tokenizers.json(tokenizerId)
  if (!json) throw new UserError('not_found', `The run's tokenizer (${tokenizerId}) is gone.`)
  const chatTemplate = runChatTemplate(store, run)
  return { run, checkpoint, config, weights, tokenizer: fromJSON(json), chatTemplate }
}

/** The weights as tfjs tensors (dispose them with disposeParams). */
export function toParams(config: ModelConfig, weights: ReadonlyMap<string, Float32Array>): Params {
  const params: Params = {}
  for (const spec of paramSpecs(config)) {
    const values = weights.get(spec.name)
    if (!values) throw new UserError('invalid_params', `The weights have no ${spec.name}.`)
    params[spec.name] = tf.tensor(values, spec.shape)
  }
  return params
}

export function disposeParams(params: Params): void {
  for (const t of Object.values(params)) t.dispose()
}
