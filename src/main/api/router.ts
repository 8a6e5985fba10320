import type { z } from 'zod'
import { api, isMethodName } from '../../shared/api'
import { UserError, describeError, type ApiResult } from '../../shared/errors'
import type { ApiHandlers } from './types'

export interface Router {
  /** Validate and run one call. Never throws: every outcome is an ApiResult. */
  invoke(method: string, params: unknown): Promise<ApiResult<unknown>>
}

/** The first validation issue, phrased for a form: "name: Enter a name." */
function describeIssue(error: z.ZodError): { message: string; field?: string } {
  const issue = error.issues[0]
  if (!issue) return { message: 'Invalid request.' }
  const field = issue.path.map(String).join('.')
  return field ? { message: `${field}: ${issue.message}`, field } : { message: issue.message }
}

/** One router, two transports: Electron IPC and the headless HTTP server both call this. */
export function createRouter(
  handlers: ApiHandlers,
  onInternalError: (method: string, err: unknown) => void = (method, err) =>
    console.error(`${method} failed:`, err),
): Router {
  return {
    async invoke(method, params) {
      if (!isMethodName(method)) {
        return {
          ok: false,
          error: { code: 'not_found', message: `Unknown API method "${method}".` },
        }
      }
      const parsed = api[method].params.safeParse(params ?? {})
      if (!parsed.success) {
        return { ok: false, error: { code: 'invalid_params', ...describeIssue(parsed.error) } }
      }
      try {
        const handler = handlers[method] as (p: unknown) => unknown
        return { ok: true, value: await handler(parsed.data) }
      } catch (err) {
        if (err instanceof UserError) return { ok: false, error: err.toApiError() }
        onInternalError(method, err)
        return {
          ok: false,
          error: {
            code: 'internal',
            message: `Something went wrong in ${method}: ${describeError(err)}`,
          },
        }
      }
    },
  }
}
