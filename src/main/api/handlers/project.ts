import type { projectApi } from '../../../shared/api'
import { backupProject } from '../../../store'
import { UserError } from '../../../shared/errors'
import { checkNewFile, samePath } from '../../user-paths'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

export function projectHandlers(ctx: AppContext): GroupHandlers<typeof projectApi> {
  return {
    'project.current': () => ctx.project.info(),
    'project.open': ({ path }) => ctx.project.open(path),
    'project.create': ({ path }) => ctx.project.create(path),
    'project.recent': () => ctx.settings.recent(),
    'project.forgetRecent': ({ path }) => {
      ctx.settings.forgetRecent(path)
      return ctx.settings.recent()
    },
    'project.backup': async ({ destination, overwrite }) => {
      const store = ctx.project.require()
      const target = checkNewFile(destination, 'destination', { extension: '.frugal', overwrite })
      if (samePath(target, store.path)) {
        throw new UserError(
          'invalid_params',
          'A backup cannot overwrite the project it copies.',
          'destination',
        )
      }
      return backupProject(store, target, { overwrite })
    },
  }
}
