import type { jobsApi } from '../../../shared/api'
import { UserError } from '../../../shared/errors'
import { jobKindDefinitions } from '../../../shared/jobs'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

export function jobsHandlers(ctx: AppContext): GroupHandlers<typeof jobsApi> {
  return {
    'jobs.list': ({ states, limit }) => ctx.jobs.list(states ? { states, limit } : { limit }),
    'jobs.get': ({ id }) => ctx.jobs.get(id),
    'jobs.start': (request) => {
      if (!jobKindDefinitions[request.kind].startable)
        throw new UserError(
          'invalid_params',
          `A ${request.kind} job is started through its own method, which checks its files and state.`,
          'kind',
        )
      if (
        request.kind === 'dataset.count' &&
        !ctx.project.require().datasets.get(request.params.datasetId)
      ) {
        throw new UserError(
          'not_found',
          `There is no dataset with id ${request.params.datasetId}.`,
          'params.datasetId',
        )
      }
      return ctx.jobs.start(request)
    },
    'jobs.cancel': ({ id }) => ctx.jobs.cancel(id),
    'jobs.logs': ({ id, limit }) => ctx.jobs.logs(id, limit),
  }
}
