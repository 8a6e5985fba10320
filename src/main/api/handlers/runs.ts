import { runTechniques } from '../../../shared/techniques'
import { availableParallelism, freemem, totalmem } from 'node:os'
import type { runsApi } from '../../../shared/api/runs'
import { modelConfigSchema } from '../../../shared/config/model'
import { countParams } from '../../../shared/config/params'
import { trainConfigSchema } from '../../../shared/config/train'
import { WASM_HEAP_LIMIT } from '../../../shared/estimate'
import { UserError } from '../../../shared/errors'
import type { JobRecord } from '../../../shared/jobs'
import type { RunDetail, RunListItem } from '../../../shared/runs'
import type { Store } from '../../../store'
import type { RunRow } from '../../../store/repos/runs'
import type { RunData } from '../../../store/repos/runs'
import { createRun, resolveInit, validateConfigs } from '../../../worker/train/setup'
import { expertLoad, runMetrics } from '../../runs/metrics'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

function activeJob(ctx: AppContext, runId: string): JobRecord | null {
  return (
    ctx.jobs
      .active()
      .find((j) => j.kind === 'train.run' && (j.params as { runId?: string }).runId === runId) ??
    null
  )
}

function listItem(ctx: AppContext, store: Store, run: RunRow): RunListItem {
  const model = modelConfigSchema.parse(run.modelConfig)
  const train = trainConfigSchema.parse(run.trainConfig)
  const data = run.data
  const counts = countParams(model)
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    backend: run.backend,
    step: run.step,
    steps: train.steps,
    tokensSeen: run.tokensSeen,
    wallMs: run.wallMs,
    trainLoss: run.trainLoss,
    bestValLoss: run.bestValLoss,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    parentRunId: run.parentRunId,
    datasetName:
      data.datasetId === null ? null : (store.datasets.get(data.datasetId)?.name ?? null),
    tokenizerName: store.tokenizers.get(data.tokenizerId)?.name ?? null,
    moe: model.moe !== null,
    kind: train.kind,
    precision: train.precision,
    parameters: counts.total,
    activeParameters: counts.active,
    jobId: activeJob(ctx, run.id)?.id ?? null,
    error: run.error,
    checkpointCount: store.checkpoints.count(run.id),
    energyJ: store.runs.latestMetric(run.id, 'energy_j'),
    techniques: runTechniques(model, train, data),
  }
}

export function runsHandlers(ctx: AppContext): GroupHandlers<typeof runsApi> {
  const store = () => ctx.project.require()
  return {
    'runs.list': () => {
      const s = ctx.project.current()
      return s ? s.runs.list().map((r) => listItem(ctx, s, r)) : []
    },
    'runs.get': ({ id }) => {
      const s = store()
      const run = s.runs.require(id)
      const detail: RunDetail = {
        ...listItem(ctx, s, run),
        model: modelConfigSchema.parse(run.modelConfig),
        train: trainConfigSchema.parse(run.trainConfig),
        data: run.data,
        checkpoints: s.checkpoints.list(id).map((c) => ({
          id: c.id,
          step: c.step,
          kind: c.kind,
          reason: c.reason,
          rawBytes: c.rawBytes,
          storedBytes: c.storedBytes,
          trainLoss: c.trainLoss,
          valLoss: c.valLoss,
          createdAt: c.createdAt,
        })),
      }
      return detail
    },
    'runs.create': ({ name, datasetId, tokenizerId, valFraction, model, train, ...refs }) => {
      const s = store()
      const resolved: Pick<RunData, 'init' | 'teacher' | 'reference'> = {}
      for (const field of ['init', 'teacher', 'reference'] as const) {
        const ref = refs[field]
        if (ref) resolved[field] = resolveInit(s, ref.runId, ref.checkpointId, field)
      }
      return listItem(
        ctx,
        s,
        createRun(s, {
          name,
          model,
          train,
          data: { datasetId, tokenizerId, valFraction, ...resolved },
        }),
      )
    },
    'runs.start': ({ id }) => {
      const s = store()
      const run = s.runs.require(id)
      const running = activeJob(ctx, id)
      if (running) throw new UserError('conflict', `Run "${run.name}" is already training.`)
      if (run.data.importedFrom)
        throw new UserError(
          'conflict',
          `"${run.name}" was imported and has no training data; start a new run from it instead.`,
        )
      if (run.status === 'completed')
        throw new UserError(
          'conflict',
          `Run "${run.name}" has finished all its steps; fork it to train further.`,
        )
      return ctx.jobs.start({ kind: 'train.run', params: { runId: id } })
    },
    'runs.pause': ({ id }) => {
      const job = activeJob(ctx, id)
      if (!job) throw new UserError('conflict', 'This run is not training.')
      return ctx.jobs.pause(job.id)
    },
    'runs.stop': ({ id }) => {
      const job = activeJob(ctx, id)
      if (!job) {
        const s = store()
        const run = s.runs.require(id)
        if (run.status === 'paused' || run.status === 'created')
          s.runs.update(id, { status: 'stopped' }, new Date().toISOString())
        throw new UserError('conflict', 'This run is not training.')
      }
      return ctx.jobs.cancel(job.id)
    },
    'runs.fork': ({ id, checkpointId, name, train }) => {
      const s = store()
      const parent = s.runs.require(id)
      const checkpoint = s.checkpoints.get(checkpointId)
      if (!checkpoint || checkpoint.runId !== id)
        throw new UserError(
          'not_found',
          `Run "${parent.name}" has no checkpoint ${checkpointId}.`,
          'checkpointId',
        )
      const data = parent.data
      if (data.importedFrom)
        throw new UserError(
          'conflict',
          `"${parent.name}" was imported (weights only): start a new run from it on your data instead of forking it.`,
        )
      const parentTrain = trainConfigSchema.parse(parent.trainConfig)
      const tokenizer = s.tokenizers.get(data.tokenizerId)
      if (!tokenizer)
        throw new UserError('not_found', "The parent run's tokenizer no longer exists.")
      // The model must stay the same: the fork starts from the parent's weights.
      const merged = { ...parentTrain, threads: parentTrain.threads, ...train }
      validateConfigs(parent.modelConfig as Record<string, unknown>, merged, tokenizer.vocabSize)
      const fork = createRun(s, {
        name,
        model: parent.modelConfig as Record<string, unknown>,
        train: merged,
        data,
        parentRunId: id,
        parentCheckpointId: checkpointId,
      })
      // Same data as the parent: a fork continues its training.
      if (parent.tokenSetId !== null) s.runs.setTokenSet(fork.id, parent.tokenSetId)
      return listItem(ctx, s, s.runs.require(fork.id))
    },
    'runs.delete': ({ id }) => {
      const s = store()
      const run = s.runs.require(id)
      if (activeJob(ctx, id))
        throw new UserError('conflict', `Run "${run.name}" is training; stop it first.`)
      s.runs.delete(id)
      return s.runs.list().map((r) => listItem(ctx, s, r))
    },
    'runs.metrics': ({ id, names, maxPoints }) => runMetrics(store(), id, names, maxPoints),
    'runs.expertLoad': ({ id, maxPoints }) => expertLoad(store(), id, maxPoints),
    'runs.logs': ({ id, query, limit }) => {
      const s = store()
      s.runs.require(id)
      return s.jobs.trainingLogs(id, query, limit)
    },
    'runs.environment': () => {
      const backend = ctx.backend.current()
      const name = backend.status === 'ready' ? backend.info.name : 'wasm'
      const cpuBackend = name === 'wasm' || name === 'cpu'
      return {
        backend,
        defaultThreads: cpuBackend ? Math.min(4, availableParallelism()) : 1,
        cpus: availableParallelism(),
        heapLimitBytes: name === 'wasm' ? WASM_HEAP_LIMIT : null,
        systemMemory: { total: totalmem(), free: freemem() },
      }
    },
  }
}
