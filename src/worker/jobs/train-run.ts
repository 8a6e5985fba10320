import * as tf from '@tensorflow/tfjs-core'
import type { Store } from '../../store'
import { UserError } from '../../shared/errors'
import type { JobContext, JobHandler } from '../context'
import { installKernels } from '../kernels'
import { fromJSON } from '../tokenizer'
import { encodeDataset } from '../train/encode'
import { trainRun } from '../train/run'
import { loadTokenData } from '../train/token-data'
import { modelConfigSchema } from '../model/config'
import { sequenceLengthOf, trainConfigSchema } from '../train/config'
import { fineTuningData } from '../sft/data'
import { isProcessAlive } from '../../store/process-alive'

/** The run's token set: fixed once training starts; before that, encoded if missing or stale. */
function ensureTokenSet(store: Store, runId: string, ctx: JobContext): number {
  const run = store.runs.require(runId)
  if (run.tokenSetId !== null) return run.tokenSetId
  const data = run.data
  if (data.datasetId === null)
    throw new UserError(
      'conflict',
      `Run "${run.name}" was imported and has no training data; start a new run from it instead.`,
    )
  const existing = store.tokenSets.latest(data.datasetId, data.tokenizerId)
  if (
    existing &&
    existing.valFraction === data.valFraction &&
    existing.createdAt >= store.datasets.corpusChangedAt(data.datasetId)
  ) {
    store.runs.setTokenSet(runId, existing.id)
    return existing.id
  }
  const json = store.tokenizers.json(data.tokenizerId)
  if (!json) throw new UserError('not_found', "The run's tokenizer no longer exists.")
  ctx.log('info', 'Encoding the dataset with the tokenizer…')
  const encoded = encodeDataset(store, fromJSON(json), {
    datasetId: data.datasetId,
    tokenizerId: data.tokenizerId,
    valFraction: data.valFraction,
    signal: ctx.signal,
    onProgress: (done, total) =>
      ctx.progress({ done, total, unit: 'documents', message: 'Encoding the dataset' }),
    log: (m) => ctx.log('warn', m),
  })
  ctx.log(
    'info',
    `Encoded ${encoded.trainTokens.toLocaleString('en')} training and ${encoded.valTokens.toLocaleString('en')} validation tokens (split by ${encoded.splitBy}, ${encoded.megabytesPerSecond.toFixed(1)} MB/s).`,
  )
  store.runs.setTokenSet(runId, encoded.tokenSetId)
  return encoded.tokenSetId
}

/** Train a run: the job behind the Train screen and `frugal train`. */
export const trainRunJob: JobHandler<'train.run'> = async ({ runId }, ctx) => {
  const store = ctx.store()
  if (!ctx.dbPath) throw new UserError('no_project', 'Training needs an open project.')
  const run = store.runs.require(runId)
  if (
    run.status === 'running' &&
    run.ownerPid !== null &&
    run.ownerPid !== process.pid &&
    isProcessAlive(run.ownerPid)
  ) {
    throw new UserError(
      'conflict',
      `Run "${runId}" is already training in process ${run.ownerPid}.`,
    )
  }
  if (run.status === 'running')
    ctx.log(
      'warn',
      `The process that was training "${runId}" stopped without saving; resuming from its last checkpoint.`,
    )
  if (run.status === 'completed')
    throw new UserError('conflict', `Run "${runId}" has finished all its steps.`)
  store.tokenSets.deleteUnfinished()
  const model = modelConfigSchema.parse(run.modelConfig)
  const train = trainConfigSchema.parse(run.trainConfig)
  const data =
    train.kind !== 'pretrain'
      ? fineTuningData(store, run, sequenceLengthOf(train, model.contextLength), model.vocabSize, {
          signal: ctx.signal,
          onProgress: (done, total) =>
            ctx.progress({ done, total, unit: 'documents', message: 'Reading the conversations' }),
          log: (level, message) => ctx.log(level, message),
        })
      : loadTokenData(store, ensureTokenSet(store, runId, ctx), model.vocabSize)
  const { info } = await ctx.backend()
  installKernels(tf)
  let lastReport = 0
  return trainRun({
    store,
    dbPath: ctx.dbPath,
    runId,
    signal: ctx.signal,
    shouldPause: () => ctx.pauseRequested(),
    backend: info,
    entries: ctx.threads,
    nativeBinding: ctx.nativeBinding,
    data,
    log: (level, message) => ctx.log(level, message),
    onStep: (m) => {
      // Live progress a few times a second; every point is in the project regardless.
      const now = performance.now()
      if (
        now - lastReport < ctx.progressIntervalMs &&
        m.valLoss === null &&
        m.step !== m.totalSteps
      )
        return
      lastReport = now
      ctx.progress({
        done: m.step,
        total: m.totalSteps,
        unit: 'steps',
        metrics: {
          loss: m.loss,
          lr: m.lr,
          grad_norm: m.gradNorm,
          tokens_per_sec: m.tokensPerSec,
          loss_scale: m.lossScale,
          skipped_steps: m.skippedTotal,
          ...(m.valLoss !== null ? { val_loss: m.valLoss } : {}),
          ...(m.policy ? { grpo_reward: m.policy.reward, grpo_kl: m.policy.kl } : {}),
        },
      })
    },
  })
}
