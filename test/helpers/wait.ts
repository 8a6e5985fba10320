/**
 * Resolve once `condition()` holds, checking every `everyMs`; fail with `what` after
 * `timeoutMs`. For work a test cannot await directly (a message on a socket, a file a
 * background task removes): waiting for the outcome itself, never for a fixed time that a
 * slow machine may overrun.
 */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  { timeoutMs = 10_000, everyMs = 10 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
