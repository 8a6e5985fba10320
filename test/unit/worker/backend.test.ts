import { describe, expect, it, vi } from 'vitest'

// The backend module caches its choice per process, as a worker does; reload it per test.
async function freshLoadBackend() {
  vi.resetModules()
  return (await import('../../../src/worker/backend')).loadBackend
}

describe('tfjs backend selection', () => {
  it('falls back past missing native packages to WebAssembly and says why', async () => {
    const loadBackend = await freshLoadBackend()
    const { tf, info } = await loadBackend(undefined)
    expect(info.name).toBe('wasm')
    expect(info.version).toMatch(/^4\./)
    expect(info.detail).toMatch(/thread/)
    // Offline, npm either removes the native packages or leaves them without their binary;
    // webgpu finds no adapter, or only a software one (Mesa's llvmpipe, in CI), which is
    // slower than wasm and so not picked unless asked for.
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow'])
    for (const s of info.skipped.filter((s) => s.name !== 'webgpu'))
      expect(s.reason).toMatch(/^(not installed|installed without its native library)/)
    expect(info.skipped.find((s) => s.name === 'webgpu')!.reason).toMatch(
      /^(only a software adapter \(llvmpipe.*\), which is slower than WebAssembly; FRUGAL_BACKEND=webgpu uses it anyway|no GPU adapter)/,
    )
    // It really computes on that backend.
    const product = tf.tidy(() =>
      tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync(),
    )
    expect(Array.from(product)).toEqual([11])
    expect(tf.getBackend()).toBe('wasm')
    expect(info.forced).toBeUndefined()
  })

  it('honours FRUGAL_BACKEND, listing the skipped ones as not requested', async () => {
    const loadBackend = await freshLoadBackend()
    const { info } = await loadBackend('cpu')
    expect(info.name).toBe('cpu')
    expect(info.forced).toBe(true) // Settings says the variable chose it
    expect(info.skipped.map((s) => s.reason)).toEqual(
      Array.from({ length: 4 }, () => 'not requested (FRUGAL_BACKEND=cpu)'),
    )
  })

  it('fails with every reason when nothing can load', async () => {
    const loadBackend = await freshLoadBackend()
    await expect(loadBackend('tpu')).rejects.toThrow(
      /No TensorFlow.js backend could be loaded \(tensorflow-gpu: not requested/,
    )
  })
})
