import { UserError, describeError } from '../shared/errors'
export { formatBytes } from '../shared/format'

/**
 * CLI output rules: with --json, stdout carries only machine-readable JSON (one value,
 * or one object per line for streams); humans read stderr. Without --json, results are
 * printed readably on stdout.
 */
export interface Output {
  json: boolean
  /** The command's result: JSON on stdout, or `human(value)` text. */
  result<T>(value: T, human: (value: T) => string): void
  /** Progress and notes for people: always stderr. */
  note(message: string): void
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human(value)}\n`)
    },
    note(message) {
      process.stderr.write(`${message}\n`)
    },
  }
}

/** Run a command body; user errors print their message and exit 1, bugs exit 2 with a stack. */
export async function runCommand(
  json: boolean,
  body: (out: Output) => Promise<void> | void,
): Promise<void> {
  const out = createOutput(json)
  try {
    await body(out)
  } catch (err) {
    if (err instanceof UserError) {
      if (json) process.stdout.write(`${JSON.stringify({ error: err.toApiError() })}\n`)
      process.stderr.write(`frugal: ${err.message}\n`)
      process.exitCode = 1
    } else {
      if (json)
        process.stdout.write(
          `${JSON.stringify({ error: { code: 'internal', message: describeError(err) } })}\n`,
        )
      process.stderr.write(
        `frugal: internal error: ${err instanceof Error ? (err.stack ?? err.message) : describeError(err)}\n`,
      )
      process.exitCode = 2
    }
  }
}
