import type { AppContext } from '../context'
import type { ApiHandlers } from '../types'
import { datasetsHandlers } from './datasets'
import { jobsHandlers } from './jobs'
import { projectHandlers } from './project'
import { systemHandlers } from './system'

/** Every group's handlers; the type makes a missing method a compile error. */
export function createHandlers(ctx: AppContext): ApiHandlers {
  return {
    ...projectHandlers(ctx),
    ...systemHandlers(ctx),
    ...jobsHandlers(ctx),
    ...datasetsHandlers(ctx),
  }
}
