import type { datasetsApi } from '../../../shared/api'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

export function datasetsHandlers(ctx: AppContext): GroupHandlers<typeof datasetsApi> {
  return {
    'datasets.list': () => ctx.project.current()?.dataStats.summaries() ?? [],
  }
}
