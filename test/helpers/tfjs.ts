import * as tf from '@tensorflow/tfjs-core'
import { loadBackend } from '../../src/worker/backend'
import { installKernels } from '../../src/worker/kernels'
import { customGradient } from '../../src/worker/model/ops'

/**
 * The backend the tests run on: wasm (what the app picks on a machine without a GPU),
 * or FRUGAL_TEST_BACKEND (webgpu: the suites CI runs again on Mesa's software Vulkan).
 */
export const testBackend = process.env.FRUGAL_TEST_BACKEND ?? 'wasm'

/** tfjs on the test backend, with Frugal's kernels installed. */
export async function setupTf(backend = testBackend): Promise<typeof tf> {
  await loadBackend(backend)
  installKernels(tf)
  return tf
}

/**
 * x unchanged; when the backward pass reaches it, pushes `bytes()` (by default tfjs's count
 * of live tensor bytes) onto `seen`, and passes the gradient through as the same tensor
 * object: what is alive at that point of a backward, for the memory tests.
 */
export function probe<T extends tf.Tensor>(
  x: T,
  seen: number[],
  bytes: () => number = () => tf.memory().numBytes,
): T {
  const op = customGradient<T>(([t]) => ({
    value: tf.clone(t) as T,
    gradFunc: (dy) => {
      seen.push(bytes())
      return [dy]
    },
  }))
  return op(x)
}

/**
 * A counter of the bytes the backend holds in tensor buffers, each buffer once (tfjs's
 * numBytes counts every clone of a tensor again, as each tensor saved for a backward is):
 * webgpu's buffers in use, or, on wasm, its heap allocations from when this was called.
 * Null on other backends.
 */
export function bufferBytes(): (() => number) | null {
  const backend = tf.backend() as unknown as {
    wasm?: { _malloc(n: number): number; _free(p: number): void }
    bufferManager?: { numBytesUsed: number }
    ensureCommandEncoderReady?(): void
    endComputePassEncoder?(): void
    submitQueue?(): void
  }
  const { wasm, bufferManager } = backend
  if (bufferManager)
    return () => {
      // The backend frees disposed tensors' buffers once the queued work is submitted.
      backend.ensureCommandEncoderReady!()
      backend.endComputePassEncoder!()
      backend.submitQueue!()
      return bufferManager.numBytesUsed
    }
  if (!wasm) return null
  // Emscripten's exports replace themselves with the raw function on their first call:
  // call each once so that replacement happens before ours, not over it.
  wasm._free(wasm._malloc(8))
  const sizes = new Map<number, number>()
  let live = 0
  const malloc = wasm._malloc.bind(wasm)
  const free = wasm._free.bind(wasm)
  wasm._malloc = (n) => {
    const ptr = malloc(n)
    sizes.set(ptr >>> 0, n) // past 2 GB malloc's result is negative (int32)
    live += n
    return ptr
  }
  wasm._free = (ptr) => {
    live -= sizes.get(ptr >>> 0) ?? 0
    sizes.delete(ptr >>> 0)
    free(ptr)
  }
  return () => live
}

/** A deterministic pseudo-random tensor (no tfjs seeding involved). */
export function randomTensor(shape: number[], seed: number, std = 1): tf.Tensor {
  let s = seed >>> 0 || 1
  const next = () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 4294967296
  }
  const n = shape.reduce((a, b) => a * b, 1)
  const v = new Float32Array(n)
  for (let i = 0; i < n; i++) v[i] = (next() * 2 - 1) * std * Math.sqrt(3)
  return tf.tensor(v, shape)
}

/**
 * Compare the analytic gradient of scalar f at each input with central finite
 * differences, on a sample of coordinates. Returns the worst relative error:
 * ‖g − ĝ‖ / max(‖g‖, ‖ĝ‖, floor) over the sampled coordinates of each input.
 */
export async function gradientError(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  { eps = 1e-2, samples = 12, seed = 7 }: { eps?: number; samples?: number; seed?: number } = {},
): Promise<number> {
  const analytic = tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs)
  let worst = 0
  let s = seed
  for (const [i, x] of inputs.entries()) {
    const base = (await x.data()).slice()
    const g = await analytic[i].data()
    const picks = new Set<number>()
    while (picks.size < Math.min(samples, base.length)) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0
      picks.add(s % base.length)
    }
    let diff = 0
    let normA = 0
    let normN = 0
    for (const j of picks) {
      const at = async (delta: number) => {
        const v = base.slice()
        v[j] += delta
        const xs = inputs.map((y, k) => (k === i ? tf.tensor(v, x.shape) : y))
        const y = f(...xs)
        const out = (await y.data())[0]
        tf.dispose([y, xs[i]])
        return out
      }
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps)
      diff += (numeric - g[j]) ** 2
      normA += g[j] ** 2
      normN += numeric ** 2
    }
    worst = Math.max(worst, Math.sqrt(diff) / Math.max(Math.sqrt(normA), Math.sqrt(normN), 1e-6))
  }
  analytic.forEach((t) => t.dispose())
  return worst
}
