/**
 * Errors a user can cause travel as values, never as exceptions across a process
 * boundary. Domain code throws `UserError`; the API router turns it into an `ApiError`.
 * Anything else that escapes a handler is an internal bug and is reported as such.
 */

export const errorCodes = [
  'invalid_params', // the request failed validation; `field` names the offending input
  'not_found', // the thing asked for does not exist
  'no_project', // the call needs an open project and there is none
  'conflict', // the request clashes with current state (e.g. file exists, job running)
  'io', // a file could not be read or written
  'unsupported', // this transport or platform cannot do it (e.g. native dialogs in serve)
  'cancelled', // the user cancelled the work
  'unauthorized', // missing or wrong access token (serve mode)
  'internal', // a bug: the message says what happened, details are in the log
] as const

export type ErrorCode = (typeof errorCodes)[number]

export interface ApiError {
  code: ErrorCode
  /** One or two sentences a user can act on. */
  message: string
  /** Dotted path of the input at fault, for inline form errors. */
  field?: string
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError }

/** An error the user caused and can fix; its message is shown as is. */
export class UserError extends Error {
  readonly code: ErrorCode
  readonly field: string | undefined

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message)
    this.name = 'UserError'
    this.code = code
    this.field = field
  }

  toApiError(): ApiError {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field }
  }
}

/** Best-effort conversion of anything thrown into a message for logs and internal errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message
  if (typeof err === 'string') return err
  try {
    return JSON.stringify(err)
  } catch {
    return String(err)
  }
}
