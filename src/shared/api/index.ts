import { dataApi } from './data'
import { datasetsApi } from './datasets'
import type { ParamsIn, ParamsOut, ResultType } from './define'
import { jobsApi } from './jobs'
import { modelsApi } from './models'
import { projectApi } from './project'
import { ratingsApi, reviewApi } from './review'
import { runsApi } from './runs'
import { systemApi } from './system'
import { tokenizersApi } from './tokenizers'

/**
 * The whole API contract: the union of every feature's method group. Adding a feature
 * means adding a group here; no central switch to edit.
 */
export const api = {
  ...projectApi,
  ...systemApi,
  ...jobsApi,
  ...datasetsApi,
  ...dataApi,
  ...tokenizersApi,
  ...runsApi,
  ...reviewApi,
  ...ratingsApi,
  ...modelsApi,
}

export type Api = typeof api
export type MethodName = keyof Api
/** What a caller passes (defaults may be omitted). */
export type Params<M extends MethodName> = ParamsIn<Api[M]>
/** What a handler receives after validation (defaults filled in). */
export type ValidParams<M extends MethodName> = ParamsOut<Api[M]>
export type Result<M extends MethodName> = ResultType<Api[M]>

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(api, name)
}

export {
  projectApi,
  systemApi,
  jobsApi,
  datasetsApi,
  dataApi,
  tokenizersApi,
  runsApi,
  reviewApi,
  ratingsApi,
  modelsApi,
}
