import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { loadBackend } from '../../../src/worker/backend'
import { throwIfBackendFailed } from '../../../src/worker/backend-failure'

/**
 * tfjs-backend-wasm answers a matrix product XNNPACK cannot set up with a printed warning
 * and an unwritten output (a 0.5B-parameter teacher did this: zeros, at a plausible speed).
 * Frugal must notice. Its own file: the test fills this process's 4 GB wasm heap.
 */
describe('the wasm backend out of memory', () => {
  it('is reported as an error instead of computing with zeros', { timeout: 60_000 }, async () => {
    await loadBackend('wasm')
    expect(() => throwIfBackendFailed()).not.toThrow()
    // Two 1 GB matrices and the 1 GB product fit; XNNPACK's 1 GB packed copy does not.
    const n = 16_384
    const a = tf.zeros<tf.Rank.R2>([n, n])
    const b = tf.zeros<tf.Rank.R2>([n, n])
    const product = tf.matMul(a, b)
    expect(() => throwIfBackendFailed()).toThrow(
      /could not run a matrix product \(XNNPACK's xnn_create_fully_connected_nc_f32: out of memory\).*at most 4 GB/,
    )
    tf.dispose([a, b, product])
  })
})
