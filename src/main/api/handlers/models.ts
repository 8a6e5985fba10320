import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { modelsApi } from '../../../shared/api'
import type { EvalRecord } from '../../../shared/api/models'
import { UserError } from '../../../shared/errors'
import { isRewardRun, trainConfigSchema } from '../../../shared/config/train'
import type { Store } from '../../../store'
import { resolveUserPath } from '../../user-paths'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

/**
 * Checkpoints at work. The run and checkpoint are checked here, so a mistake is refused
 * at once with the field, rather than as a failed job a moment later.
 */
export function modelsHandlers(ctx: AppContext): GroupHandlers<typeof modelsApi> {
  const checked = (runId: string, checkpointId: number | null): Store => {
    const store = ctx.project.require()
    const run = store.runs.get(runId)
    if (!run) throw new UserError('not_found', `There is no run ${runId}.`, 'runId')
    const checkpoints = store.checkpoints.list(runId)
    if (checkpoints.length === 0)
      throw new UserError(
        'conflict',
        `Run "${run.name}" has no checkpoint yet: train it first.`,
        'checkpointId',
      )
    if (checkpointId !== null && !checkpoints.some((c) => c.id === checkpointId))
      throw new UserError(
        'not_found',
        `Run "${run.name}" has no checkpoint ${checkpointId}.`,
        'checkpointId',
      )
    return store
  }
  return {
    'models.evals': ({ runId }) =>
      ctx.project
        .require()
        .evals.list(runId)
        .map((e) => ({
          ...e,
          params: (e.params ?? {}) as EvalRecord['params'],
          result: (e.result ?? {}) as EvalRecord['result'],
        })),
    'models.perplexity': (p) => {
      const store = checked(p.runId, p.checkpointId)
      if (p.datasetId !== null && !store.datasets.get(p.datasetId))
        throw new UserError('not_found', `There is no dataset ${p.datasetId}.`, 'datasetId')
      return ctx.jobs.start({ kind: 'eval.perplexity', params: p })
    },
    'models.mc': (p) => {
      checked(p.runId, p.checkpointId)
      const data = resolveUserPath(p.data, 'data')
      if (!existsSync(data) || !statSync(data).isDirectory())
        throw new UserError('not_found', `There is no folder at ${data}.`, 'data')
      return ctx.jobs.start({ kind: 'eval.mc', params: { ...p, data } })
    },
    'models.generate': (p) => {
      checked(p.runId, p.checkpointId)
      return ctx.jobs.start({ kind: 'model.generate', params: p })
    },
    'models.score': (p) => {
      const store = checked(p.runId, p.checkpointId)
      const run = store.runs.get(p.runId)!
      if (!isRewardRun(trainConfigSchema.parse(run.trainConfig)))
        throw new UserError(
          'invalid_params',
          `Run "${run.name}" is not a reward model: train one with the kind "A reward model".`,
          'runId',
        )
      return ctx.jobs.start({ kind: 'model.score', params: p })
    },
    'models.inspect': (p) => {
      checked(p.runId, p.checkpointId)
      return ctx.jobs.start({ kind: 'model.inspect', params: p })
    },
    'models.import': ({ path, name }) => {
      ctx.project.require()
      const dir = resolveUserPath(path, 'path')
      if (!existsSync(dir) || !statSync(dir).isDirectory())
        throw new UserError('not_found', `There is no folder at ${dir}.`, 'path')
      for (const file of ['config.json', 'model.safetensors', 'tokenizer.json'])
        if (!existsSync(join(dir, file)))
          throw new UserError('not_found', `${dir} has no ${file}: is it a model folder?`, 'path')
      return ctx.jobs.start({ kind: 'model.import', params: { path: dir, name } })
    },
    'models.export': (p) => {
      checked(p.runId, p.checkpointId)
      return ctx.jobs.start({ kind: 'model.export', params: p })
    },
  }
}
