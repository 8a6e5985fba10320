import * as tf from '@tensorflow/tfjs-core'

/**
 * Direct views of tensor memory on backends that keep it in the JavaScript process: the
 * wasm heap, or the cpu backend's typed arrays. On them an elementwise pass over every
 * parameter (the optimizer, a gradient norm) is one fused loop instead of a dozen tfjs
 * ops with their intermediate tensors. Null on backends whose memory lives elsewhere
 * (native TensorFlow, a GPU).
 *
 * A view aliases the tensor: writing through it changes the tensor in place, which is
 * only sound when nothing else holds that data (no tape, no saved activations): between
 * training steps, for parameters and optimizer state.
 */
export type HostView = (t: tf.Tensor) => Float32Array

interface WasmLike {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } }
  wasm: {
    tfjs: {
      registerTensor(id: number, size: number, offset: number): void
      disposeData(id: number): void
    }
  }
}
interface CpuLike {
  data: { get(dataId: tf.DataId): { values: ArrayLike<number> } }
}

/**
 * Tell the backend a tensor's data changed in place. tfjs-backend-wasm caches XNNPACK's
 * packed copy of a matmul's right operand by tensor id; a weight updated in place keeps
 * its id, so without this the next forward pass would multiply by the old weights.
 * Re-registering the same id at the same memory drops that cache entry; nothing is copied.
 */
export function hostChanged(t: tf.Tensor): void {
  if (tf.getBackend() !== 'wasm') return
  const backend = tf.backend() as unknown as WasmLike
  const { id, memoryOffset } = backend.dataIdMap.get(t.dataId)
  backend.wasm.tfjs.disposeData(id)
  backend.wasm.tfjs.registerTensor(id, t.size, memoryOffset)
}

/**
 * Whether tensors can be read synchronously (dataSync) on the active backend. WebGPU
 * under Node cannot (tfjs reads synchronously through an OffscreenCanvas, which Node has
 * not): code that runs there reads with `await data()`, batched and rarely.
 */
export function readsSync(): boolean {
  return tf.getBackend() !== 'webgpu'
}

/**
 * A tensor's values in an array the caller owns, free to transfer to another thread. The
 * cpu backend's data() hands out the tensor's own storage, and webgpu's its cached read-back
 * (which later reads return again): those are copied; wasm and native TensorFlow already
 * return a fresh copy.
 */
export async function readOwned(t: tf.Tensor): Promise<Float32Array> {
  const values = (await t.data()) as Float32Array
  const name = tf.getBackend()
  return name === 'wasm' || name === 'tensorflow' ? values : values.slice()
}

/**
 * The sum of some scalars, added on the device and read back once (a GPU stalls at every
 * read, and under Node reads only asynchronously); every one of them is disposed.
 */
export async function readSum(scalars: tf.Tensor[]): Promise<number> {
  const total = tf.tidy(() => tf.addN(scalars))
  try {
    return (await total.data())[0]
  } finally {
    tf.dispose([total, ...scalars])
  }
}

/**
 * The values of several tensors in one transfer (a GPU stalls at every read): flattened
 * and joined on the device, read once, split again. Every one of them is disposed.
 */
export async function readTogether(ts: tf.Tensor[]): Promise<Float32Array[]> {
  if (ts.length === 0) return []
  const packed = tf.tidy(() => tf.concat(ts.map((t) => tf.reshape(tf.cast(t, 'float32'), [-1]))))
  try {
    const values = (await packed.data()) as Float32Array
    let offset = 0
    return ts.map((t) => values.slice(offset, (offset += t.size)))
  } finally {
    tf.dispose([packed, ...ts])
  }
}

/**
 * Whether a tensor is the only holder of its memory, so a write through its host view
 * changes nothing else. A clone, reshape or same-dtype cast shares memory on cpu and
 * wasm (wasm-identity.ts); a write then must make new memory instead (`assign`).
 */
export function ownsMemory(t: tf.Tensor): boolean {
  return tf.backend().refCount(t.dataId) === 1
}

export function hostView(): HostView | null {
  const name = tf.getBackend()
  if (name === 'wasm') {
    const backend = tf.backend() as unknown as WasmLike
    // Recomputed per call: the heap's buffer is replaced when wasm memory grows.
    return (t) => backend.typedArrayFromHeap(t) as Float32Array
  }
  if (name === 'cpu') {
    const backend = tf.backend() as unknown as CpuLike
    return (t) => backend.data.get(t.dataId).values as Float32Array
  }
  return null
}
