import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { modelsApi } from '../../../shared/api'
import type { EvalRecord } from '../../../shared/api/models'
import { UserError } from '../../../shared/errors'
import { resolveUserPath } from '../../user-paths'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

/**
 * Checkpoints at work. The run and checkpoint are checked before a job starts (the kinds'
 * `checkpoint` check), so a mistake is refused at once with the field, rather than as a
 * failed job a moment later.
 */
export function modelsHandlers(ctx: AppContext): GroupHandlers<typeof modelsApi> {
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
      const store = ctx.project.require()
      if (p.datasetId !== null && !store.datasets.get(p.datasetId))
        throw new UserError('not_found', `There is no dataset ${p.datasetId}.`, 'datasetId')
      return ctx.jobs.start({ kind: 'eval.perplexity', params: p })
    },
    'models.mc': (p) => {
      const data = resolveUserPath(p.data, 'data')
      if (!existsSync(data) || !statSync(data).isDirectory())
        throw new UserError('not_found', `There is no folder at ${data}.`, 'data')
      return ctx.jobs.start({ kind: 'eval.mc', params: { ...p, data } })
    },
    'models.generate': (p) => ctx.jobs.start({ kind: 'model.generate', params: p }),
    'models.score': (p) => ctx.jobs.start({ kind: 'model.score', params: p }),
    'models.inspect': (p) => ctx.jobs.start({ kind: 'model.inspect', params: p }),
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
    'models.export': (p) => ctx.jobs.start({ kind: 'model.export', params: p }),
  }
}
