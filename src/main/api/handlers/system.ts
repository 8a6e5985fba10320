import type { systemApi } from '../../../shared/api'
import { UserError } from '../../../shared/errors'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

export function systemHandlers(ctx: AppContext): GroupHandlers<typeof systemApi> {
  return {
    'system.info': () => ({
      appVersion: ctx.appVersion,
      mode: ctx.mode,
      nativeDialogs: ctx.dialogs !== null,
      platform: `${process.platform} ${process.arch}`,
      versions: ctx.versions,
      userDataDir: ctx.userDataDir,
      defaultProjectPath: ctx.defaultProjectPath,
    }),
    'system.backend': () => ctx.backend.current(),
    'system.reprobeBackend': () => ctx.backend.probe(),
    'system.pickPath': ({ purpose, defaultPath }) => {
      if (!ctx.dialogs) {
        throw new UserError(
          'unsupported',
          'File dialogs are only available in the desktop app; type the path instead.',
        )
      }
      return ctx.dialogs.pickPath(purpose, defaultPath)
    },
    'settings.get': () => ctx.settings.get(),
    'settings.update': (patch) => {
      const next = ctx.settings.update(patch.theme ? { theme: patch.theme } : {})
      ctx.events.publish('settings.changed', next)
      return next
    },
  }
}
