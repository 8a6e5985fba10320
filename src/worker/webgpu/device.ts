import * as tf from '@tensorflow/tfjs-core'
import type { GpuInfo } from '../../shared/types'

/**
 * WebGPU under Node: Dawn (Google's WebGPU implementation, prebuilt in the npm package
 * `webgpu` for Linux, macOS and Windows) drives the GPU through Vulkan, Metal or D3D12,
 * so any vendor's GPU trains with nothing but `npm install`. tfjs-backend-webgpu runs on
 * the device made here; Frugal owns the adapter choice and the device, so it can say
 * which GPU it uses, refuse a software one, and see a lost device.
 */

/** The parts of the WebGPU API used here (dawn.node implements the standard one). */
interface GpuAdapter {
  readonly info: {
    vendor: string
    architecture: string
    device: string
    description: string
    isFallbackAdapter?: boolean
  }
  readonly features: ReadonlySet<string>
  readonly limits: Record<string, number>
  requestDevice(descriptor?: {
    requiredFeatures?: string[]
    requiredLimits?: Record<string, number>
  }): Promise<GpuDevice>
}
export interface GpuDevice {
  readonly lost: Promise<{ reason: string; message: string }>
  readonly features: ReadonlySet<string>
  readonly limits: Record<string, number>
  addEventListener(
    type: 'uncapturederror',
    listener: (event: { error: { message: string; constructor: { name: string } } }) => void,
  ): void
  destroy(): void
}
interface Gpu {
  requestAdapter(options?: {
    powerPreference?: 'high-performance' | 'low-power'
  }): Promise<GpuAdapter | null>
}
interface DawnModule {
  create(flags: string[]): Gpu
  globals: Record<string, unknown>
}

/** Adapters that are CPUs in disguise: Mesa's llvmpipe, Google's SwiftShader, WARP. */
const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|warp|microsoft basic render/i

/** What a user needs to know about an adapter, and what decides whether we use it. */
export function describeAdapter(adapter: GpuAdapter): GpuInfo {
  const { vendor, architecture, device, description } = adapter.info
  const software =
    adapter.info.isFallbackAdapter === true ||
    SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`)
  return {
    vendor: vendor || 'unknown vendor',
    architecture,
    device,
    description,
    software,
    features: [...adapter.features]
      .filter((f) => f === 'shader-f16' || f === 'timestamp-query')
      .sort(),
    limits: {
      maxBufferSize: adapter.limits.maxBufferSize ?? 0,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize ?? 0,
    },
  }
}

/** "NVIDIA H200 (nvidia hopper)": the name a status bar has room for. */
export function adapterName(info: GpuInfo): string {
  const name = info.description || info.device || info.vendor
  const arch = [info.vendor, info.architecture].filter(Boolean).join(' ')
  return arch && !name.toLowerCase().includes(arch.toLowerCase()) ? `${name} (${arch})` : name
}

let dawn: Gpu | null = null

/** Dawn's GPU object, made once per process, and the WebGPU globals tfjs expects. */
async function dawnGpu(): Promise<Gpu> {
  if (dawn) return dawn
  const mod = (await import('webgpu')) as unknown as DawnModule
  Object.assign(globalThis, mod.globals)
  const gpu = mod.create([])
  // tfjs finds WebGPU at navigator.gpu. Node 21+ has a navigator; Node 20 does not.
  const nav = (globalThis as { navigator?: object }).navigator
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true })
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true })
  dawn = gpu
  return gpu
}

export interface WebGpuBackend {
  info: GpuInfo
  device: GpuDevice
}

/** What went wrong on the GPU, in the words a user needs. */
export class GpuError extends Error {
  constructor(
    readonly kind: 'out-of-memory' | 'lost' | 'validation' | 'internal',
    message: string,
  ) {
    super(message)
    this.name = 'GpuError'
  }
}

/**
 * The first error the device reported that no one caught, or its loss. WebGPU reports
 * errors asynchronously and carries on: a failed allocation or an invalid kernel leaves
 * its output unwritten, so a run would go on with zeros. The training loop and the jobs
 * check this after each step (throwIfGpuFailed) and stop with the reason.
 */
let failure: GpuError | null = null

const MB = 2 ** 20
/**
 * Dawn's words for a tensor too big to fit: "Buffer size (8589934592) exceeds the max buffer
 * size limit (4294967295)", "Binding size (160000000) of [Buffer] is larger than the maximum
 * storage buffer binding size (134217728)".
 */
const SIZE_LIMIT = /size \((\d+)\).*?(?:exceeds|is larger than) the max.*?\((\d+)\)/i

/** A WebGPU error as what it means for a run. */
export function describeGpuError(error: {
  message: string
  constructor: { name: string }
}): GpuError {
  const kind = error.constructor.name
  const text = error.message.split('\n')[0]
  const size = SIZE_LIMIT.exec(text)
  if (size) {
    const [need, limit] = [Number(size[1]) / MB, Number(size[2]) / MB]
    return new GpuError(
      'out-of-memory',
      `Out of GPU memory: one tensor needs ${Math.round(need).toLocaleString('en')} MB, more than this GPU allows in one buffer (${Math.round(limit).toLocaleString('en')} MB).`,
    )
  }
  if (kind === 'GPUOutOfMemoryError' || /out of memory/i.test(text))
    return new GpuError('out-of-memory', `Out of GPU memory: ${text}`)
  if (kind === 'GPUValidationError')
    return new GpuError('validation', `The GPU refused a kernel (a bug in Frugal or tfjs): ${text}`)
  return new GpuError('internal', `The GPU driver failed: ${text}`)
}

/** Record the device's first uncaught error and its loss (see `failure`). */
export function watchDevice(device: Pick<GpuDevice, 'addEventListener' | 'lost'>): void {
  failure = null
  device.addEventListener('uncapturederror', ({ error }) => {
    failure ??= describeGpuError(error)
  })
  void device.lost.then(({ reason, message }) => {
    // destroy() is ours, at the end of the process: not a failure.
    if (reason === 'destroyed') return
    failure ??= new GpuError(
      'lost',
      `The GPU was lost (${message || reason}): the driver reset or the adapter was removed. The next job starts on a fresh device.`,
    )
  })
}

/** The parts of tfjs-backend-webgpu's BufferManager the trimmer works on. */
interface BufferPool {
  freeBuffers: Map<string, { size: number; destroy(): void }[]>
  usedBuffers: Map<string, unknown[]>
  numFreeBuffers: number
  numBytesAllocated: number
  acquireBuffer(size: number, usage: number, ...rest: unknown[]): unknown
}

let trimPool: (() => void) | null = null

/**
 * tfjs-backend-webgpu keeps every freed buffer for reuse by a request of exactly its size.
 * A MoE step's sizes change with the routing (each expert's rows), and decoding's with the
 * cache length, so the pool keeps buffers of sizes never asked for again and grows
 * without bound (measured: 157 MB after 10 steps of a small MoE, 276 MB after 60, with
 * 6 MB of live tensors). The trimmer destroys the free buffers of every size not asked
 * for since the last trim; sizes a step uses every time stay pooled.
 */
function poolTrimmer(backend: { bufferManager: BufferPool }): () => void {
  const pool = backend.bufferManager
  const asked = new Set<string>()
  const acquire = pool.acquireBuffer.bind(pool)
  pool.acquireBuffer = (size, usage, ...rest) => {
    asked.add(`${size}_${usage}`)
    return acquire(size, usage, ...rest)
  }
  return () => {
    for (const [key, free] of pool.freeBuffers) {
      if (asked.has(key)) continue
      for (const buffer of free) {
        pool.numBytesAllocated -= buffer.size
        buffer.destroy() // WebGPU frees it once work already submitted is done
      }
      pool.numFreeBuffers -= free.length
      free.length = 0
      // A size nobody holds leaves the maps too (they would grow by a key per new size);
      // one still held keeps its lists, which releaseBuffer expects to find.
      if (!pool.usedBuffers.get(key)?.length) {
        pool.freeBuffers.delete(key)
        pool.usedBuffers.delete(key)
      }
    }
    asked.clear()
  }
}

/** Release pooled GPU buffers nobody asked for since the last call (no-op off webgpu). */
export function trimGpuPool(): void {
  if (tf.getBackend() === 'webgpu') trimPool?.()
}

/** Throw the GPU's first failure, if it had one (see `failure`). */
export function throwIfGpuFailed(): void {
  if (failure) throw failure
}

/**
 * Find the GPU, refuse a software adapter unless `allowSoftware`, and make it tfjs's
 * `webgpu` backend. Throws, with a reason a user can act on, when it cannot.
 */
export async function activateWebGpu(allowSoftware: boolean): Promise<WebGpuBackend> {
  const gpu = await dawnGpu()
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (!adapter) {
    throw new Error(
      "no GPU adapter: no Vulkan, Metal or Direct3D 12 driver offered one (on Linux, install your GPU vendor's Vulkan driver)",
    )
  }
  const info = describeAdapter(adapter)
  if (info.software && !allowSoftware) {
    throw new Error(
      `only a software adapter (${adapterName(info)}), which is slower than WebAssembly; FRUGAL_BACKEND=webgpu uses it anyway`,
    )
  }
  // Imported only now: the package registers its own backend when it finds navigator.gpu
  // at import time, on an adapter of its choosing; ours is registered below instead.
  const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: new (device: GpuDevice, info: GpuAdapter['info']) => tf.KernelBackend
  }
  const limits = adapter.limits
  const device = await adapter.requestDevice({
    requiredFeatures: ['timestamp-query', 'shader-f16'].filter((f) => adapter.features.has(f)),
    // The adapter's own limits, not WebGPU's defaults (128 MiB bindings): a model's
    // embedding or a batch's logits are often larger.
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      // AddN binds each input as a storage buffer (kernels/webgpu-addn.ts chunks the rest).
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  })
  watchDevice(device)
  if ('webgpu' in tf.engine().registryFactory) tf.removeBackend('webgpu')
  tf.registerBackend(
    'webgpu',
    () => {
      const backend = new WebGPUBackend(device, adapter.info)
      trimPool = poolTrimmer(backend as unknown as { bufferManager: BufferPool })
      return backend
    },
    3,
  )
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend')
  await tf.ready()
  return { info, device }
}
