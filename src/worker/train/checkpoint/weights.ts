import { UserError } from '../../../shared/errors'
import { loraConfigSchema, type LoraConfig } from '../../../shared/config/train'
import type { Store } from '../../../store'
import { modelConfigSchema } from '../../model/config'
import { isAdapterName, mergeAdapters } from '../../model/lora'

/**
 * A checkpoint's model weights by parameter name, as every reader wants them: a LoRA
 * run's checkpoint holds only its adapters, so they are folded into the weights of the
 * checkpoint that run started from (itself read the same way, so adapters stack).
 * `role` names the checkpoint in the message when it is gone.
 */
export function checkpointWeights(
  store: Store,
  checkpointId: number,
  role = 'checkpoint',
): Map<string, Float32Array> {
  const info = store.checkpoints.get(checkpointId)
  const run = info ? store.runs.get(info.runId) : null
  if (!info || !run) throw new UserError('not_found', `The ${role} ${checkpointId} is gone.`)
  const weights = new Map<string, Float32Array>()
  for (const [name, t] of store.checkpoints.tensors(checkpointId))
    if (name.startsWith('param/')) weights.set(name.slice('param/'.length), t.values)
  if (![...weights.keys()].some(isAdapterName)) return weights
  const init = run.data.init
  if (!init)
    throw new UserError('invalid_params', `The ${role} ${checkpointId} has adapters but no base.`)
  const base = checkpointWeights(
    store,
    init.checkpointId,
    'checkpoint its adapters were trained on',
  )
  return mergeAdapters(
    modelConfigSchema.parse(run.modelConfig),
    adapterConfigOf(store, checkpointId, run.trainConfig),
    base,
    weights,
  )
}

/** The adapters' settings: those the checkpoint was trained with, else its run's. */
export function adapterConfigOf(store: Store, checkpointId: number, runTrain: unknown): LoraConfig {
  const state = store.checkpoints.state(checkpointId) as { train?: { lora?: unknown } } | null
  const saved = state?.train?.lora ?? (runTrain as { lora?: unknown } | null)?.lora
  return loraConfigSchema.parse(saved)
}
