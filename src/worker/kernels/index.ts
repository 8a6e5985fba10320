import type * as tfc from '@tensorflow/tfjs-core'
import { registerMatMulGradient } from './matmul-grad'
import { registerSegmentSum } from './segment-sum'
import { registerWasmBatchedMatMul } from './wasm-batched-matmul'
import { registerWebGpuAddN } from './webgpu-addn'

let installed = false

/**
 * Kernels and gradients Frugal adds to tfjs (see TECHNIQUES.md for the measurements
 * behind each). Call once per process after the backend is chosen; idempotent.
 */
export function installKernels(tf: typeof tfc): void {
  if (installed) return
  installed = true
  // Re-registering a gradient makes tfjs warn once per name; expected here.
  const warn = console.warn
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('Overriding the gradient')) warn(...args)
  }
  try {
    registerMatMulGradient(tf)
  } finally {
    console.warn = warn
  }
  registerSegmentSum(tf)
  if (tf.findBackend('wasm')) registerWasmBatchedMatMul(tf)
  if (tf.findBackend('webgpu')) registerWebGpuAddN(tf)
}
