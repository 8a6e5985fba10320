import type * as tfc from '@tensorflow/tfjs-core'
import { registerMatMulGradient } from './matmul-grad'
import { registerSegmentSum } from './segment-sum'
import { registerWasmBatchedMatMul } from './wasm-batched-matmul'
import { registerWebGpuAddN } from './webgpu-addn'
import { registerWebGpuAttention } from './webgpu-attention'
import { registerWebGpuCrossEntropy } from './webgpu-cross-entropy'
import { registerWebGpuHalf } from './webgpu-half'
import { registerWebGpuMatMulFix } from './webgpu-matmul'
import { registerWebGpuRmsNorm } from './webgpu-rmsnorm'
import { registerWebGpuSwiGlu } from './webgpu-swiglu'
import { registerWasmIdentity } from './wasm-identity'

let gradientsInstalled = false
const backendsDone = new Set<string>()

/**
 * Kernels and gradients Frugal adds to tfjs (see TECHNIQUES.md for the measurements
 * behind each). Call after a backend is set up; idempotent. Gradients are registered once
 * per process; kernels once for each backend that is initialized at the time of a call (a
 * process may run two, as a test comparing webgpu with wasm does).
 */
export function installKernels(tf: typeof tfc): void {
  if (!gradientsInstalled) {
    gradientsInstalled = true
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
  }
  const once = (name: string, register: () => void) => {
    if (backendsDone.has(name) || !tf.findBackend(name)) return
    backendsDone.add(name)
    register()
  }
  once('wasm', () => {
    registerSegmentSum(tf, 'wasm')
    registerWasmBatchedMatMul(tf)
    registerWasmIdentity(tf)
  })
  once('cpu', () => registerSegmentSum(tf, 'cpu'))
  once('webgpu', () => {
    registerWebGpuMatMulFix(tf)
    registerWebGpuAddN(tf)
    registerWebGpuRmsNorm(tf)
    registerWebGpuSwiGlu(tf)
    registerWebGpuCrossEntropy(tf)
    registerWebGpuAttention(tf)
    registerWebGpuHalf(tf)
  })
}
