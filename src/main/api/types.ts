import type { Api } from '../../shared/api'
import type { MethodGroup, ParamsOut, ResultType } from '../../shared/api/define'

/** The handlers of one method group: each receives validated params. */
export type GroupHandlers<G extends MethodGroup> = {
  [M in keyof G]: (params: ParamsOut<G[M]>) => Promise<ResultType<G[M]>> | ResultType<G[M]>
}

export type ApiHandlers = GroupHandlers<Api>
