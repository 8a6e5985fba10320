import type * as tfc from '@tensorflow/tfjs-core'
import { elementwise, type WebGpuBackendLike } from './webgpu-program'

/**
 * SwiGLU's gate on webgpu, one launch forward and two backward, where the composed tfjs
 * ops take 3 and about 7, and save sigmoid(g) and silu(g) beside g and u:
 *   FrugalSwiGlu       g, u       ->  h = silu(g) ⊙ u, silu(g) = g·σ(g)
 *   FrugalSwiGluGradG  g, u, dh   ->  dg = dh ⊙ u ⊙ σ(g)·(1 + g·(1 − σ(g)))
 *   FrugalSwiGluGradU  g, dh      ->  du = dh ⊙ silu(g)
 * Any shape, as long as all are the same (flattened).
 */
export const SWIGLU = 'FrugalSwiGlu'
export const SWIGLU_GRAD_G = 'FrugalSwiGluGradG'
export const SWIGLU_GRAD_U = 'FrugalSwiGluGradU'

const sigmoid = 'let sg = 1.0 / (1.0 + exp(-g));'

const kernels: [string, string[], string][] = [
  [SWIGLU, ['G', 'U'], 'g * sg * u'],
  [SWIGLU_GRAD_G, ['G', 'U', 'DH'], 'dh * u * sg * (1.0 + g * (1.0 - sg))'],
  [SWIGLU_GRAD_U, ['G', 'DH'], 'dh * g * sg'],
]

export function registerWebGpuSwiGlu(tf: typeof tfc): void {
  for (const [kernelName, names, expression] of kernels) {
    tf.registerKernel({
      kernelName,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend }) => {
        const gpu = backend as unknown as WebGpuBackendLike
        const ordered = names.map((n) => inputs[n.toLowerCase()] as tfc.TensorInfo)
        const shape = ordered[0].shape
        const size = shape.reduce((a, b) => a * b, 1)
        const flat = ordered.map((t) => ({ ...t, shape: [size] }))
        const program = elementwise(kernelName, names, size, sigmoid, expression)
        const out = gpu.runWebGPUProgram(program, flat, 'float32')
        return { ...out, shape }
      },
    })
  }
}
