import type * as tfc from '@tensorflow/tfjs-core'
import type { WebGpuBackendLike } from './webgpu-program'

type AddNFunc = (args: {
  inputs: tfc.TensorInfo[]
  backend: WebGpuBackendLike
  attrs: tfc.NamedAttrMap
}) => tfc.TensorInfo

/**
 * AddN on webgpu, in chunks. tfjs-backend-webgpu's AddN binds every input as its own
 * storage buffer in one shader, so a sum of more tensors than the device's
 * maxStorageBuffersPerShaderStage allows (8 by default; the sum of a model's squared
 * gradients has dozens) is an invalid pipeline: WebGPU reports a validation error and
 * computes nothing, and the result silently reads as zeros. This sums at most
 * limit − 1 inputs per launch (one binding is the output), then the partial sums.
 */
export function registerWebGpuAddN(tf: typeof tfc): void {
  const stock = tf.getKernel('AddN', 'webgpu')
  if (!stock) return
  const sum = stock.kernelFunc as unknown as AddNFunc
  tf.unregisterKernel('AddN', 'webgpu')
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: (args) => {
      const { backend, attrs } = args as unknown as Parameters<AddNFunc>[0]
      const chunk = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1)
      let inputs = args.inputs as unknown as tfc.TensorInfo[]
      const made: tfc.TensorInfo[] = []
      while (inputs.length > chunk) {
        const partial: tfc.TensorInfo[] = []
        for (let i = 0; i < inputs.length; i += chunk) {
          const part = inputs.slice(i, i + chunk)
          if (part.length === 1) partial.push(part[0])
          else {
            const out = sum({ inputs: part, backend, attrs })
            made.push(out)
            partial.push(out)
          }
        }
        inputs = partial
      }
      const result = sum({ inputs, backend, attrs })
      for (const t of made) backend.disposeData(t.dataId)
      return result
    },
  })
}
