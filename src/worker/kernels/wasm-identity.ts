import type * as tfc from '@tensorflow/tfjs-core'

interface WasmBackend {
  incRef(dataId: tfc.DataId): void
}

/**
 * Identity, and Cast to the dtype a tensor already has, on the wasm backend without a copy:
 * the result shares the input's memory and the backend counts one more reference, as the
 * cpu backend and the wasm backend's own Reshape already do.
 *
 * The stock wasm kernels copy. tfjs clones every tensor it saves for a backward pass
 * (engine.saveTensorsForBackwardMode), and the Multiply and Square gradients cast float32
 * to float32, so a training step of the Shakespeare model made about 390 full copies of
 * activations: 3-4% of the step (measured with tf.profile).
 *
 * Sharing is safe for tfjs's own kernels, which never write to their inputs. Frugal's
 * in-place writers (the optimizer through host views) check `ownsMemory` first.
 */
export function registerWasmIdentity(tf: typeof tfc): boolean {
  const identity = tf.getKernel('Identity', 'wasm')
  const cast = tf.getKernel('Cast', 'wasm')
  const backend = tf.findBackend('wasm') as unknown as Partial<WasmBackend> | null
  if (!identity || !cast || typeof backend?.incRef !== 'function') return false
  const share = (x: tfc.TensorInfo, be: WasmBackend): tfc.TensorInfo => {
    be.incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
  }
  tf.unregisterKernel('Identity', 'wasm')
  tf.registerKernel({
    ...identity,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tfc.TensorInfo }
      if (x.dtype === 'string') return identity.kernelFunc(args)
      return share(x, args.backend as unknown as WasmBackend)
    },
  })
  tf.unregisterKernel('Cast', 'wasm')
  tf.registerKernel({
    ...cast,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tfc.TensorInfo }
      const { dtype } = args.attrs as { dtype: tfc.DataType }
      if (dtype !== x.dtype || x.dtype === 'string') return cast.kernelFunc(args)
      return share(x, args.backend as unknown as WasmBackend)
    },
  })
  return true
}
