import { throwIfGpuFailed } from './webgpu/device'

/**
 * Failures a backend reports on the side while its results go on as if nothing happened.
 * WebGPU's (see webgpu/device.ts) and the wasm backend's: when XNNPACK cannot set up a
 * matrix product (most often because the wasm heap, at most 4 GB, is full), tfjs-backend-
 * wasm prints "XNN status for … is not successful" and leaves the product's output
 * unwritten, so a forward pass would continue with zeros. The training loop, the teacher
 * and the decoder check `throwIfBackendFailed` after each pass and stop with the reason.
 */
let wasmFailure: Error | null = null

/** XNNPACK's status codes that a failed setup reports (xnn_status). */
const XNN_STATUS: Record<string, string> = {
  '2': 'an invalid parameter',
  '3': 'an invalid state',
  '4': 'an unsupported parameter',
  '5': 'unsupported hardware',
  '6': 'out of memory',
}
const XNN_FAILURE = /XNN status for (\w+) is not successful\. Got status (\d+)/

let watching = false

/**
 * Watch the wasm backend's warnings. Call before the backend starts: its module binds
 * `console.warn` as its error printer when it is instantiated.
 */
export function watchWasmFailures(): void {
  if (watching) return
  watching = true
  const warn = console.warn
  console.warn = (...args: unknown[]) => {
    const m = XNN_FAILURE.exec(String(args[0]))
    if (m && !wasmFailure) wasmFailure = wasmError(m[1], m[2])
    warn(...args)
  }
}

function wasmError(operation: string, status: string): Error {
  const why = XNN_STATUS[status] ?? `status ${status}`
  const memory =
    status === '6'
      ? ' The wasm backend holds at most 4 GB for weights and activations: use a smaller model, batch or context, or the webgpu or tensorflow backend.'
      : ''
  return new Error(
    `The wasm backend could not run a matrix product (XNNPACK's ${operation}: ${why}), so its results would be wrong.${memory}`,
  )
}

/** Throw the first failure a backend reported on the side, if any. */
export function throwIfBackendFailed(): void {
  throwIfGpuFailed()
  if (wasmFailure) throw wasmFailure
}
