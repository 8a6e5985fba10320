import type { AppContext } from '../context'
import type { ApiHandlers } from '../types'
import { dataHandlers } from './data'
import { datasetsHandlers } from './datasets'
import { jobsHandlers } from './jobs'
import { modelsHandlers } from './models'
import { projectHandlers } from './project'
import { ratingsHandlers, reviewHandlers } from './review'
import { runsHandlers } from './runs'
import { systemHandlers } from './system'
import { tokenizersHandlers } from './tokenizers'

/** Every group's handlers; the type makes a missing method a compile error. */
export function createHandlers(ctx: AppContext): ApiHandlers {
  return {
    ...projectHandlers(ctx),
    ...systemHandlers(ctx),
    ...jobsHandlers(ctx),
    ...datasetsHandlers(ctx),
    ...dataHandlers(ctx),
    ...tokenizersHandlers(ctx),
    ...runsHandlers(ctx),
    ...reviewHandlers(ctx),
    ...ratingsHandlers(ctx),
    ...modelsHandlers(ctx),
  }
}
