import type * as TF from '@tensorflow/tfjs-core'
export { trainingFlopsPerToken } from '../../shared/estimate'

/**
 * This thread's dense matmul throughput (FLOP/s), timed on square products for about
 * `seconds`: the denominator of model FLOPs utilization. Measured rather than taken from
 * a spec sheet, because the same CPU gives very different numbers on wasm, native
 * TensorFlow or plain JavaScript.
 */
export async function measureMatmulFlops(tf: typeof TF, seconds = 0.3, n = 256): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1)
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2)
  // Reading the product waits for it (a GPU queues work and returns at once).
  const once = async () => {
    const c = tf.matMul(a, b)
    await c.data()
    c.dispose()
  }
  await once()
  let reps = 0
  const start = performance.now()
  while (performance.now() - start < seconds * 1000) {
    await once()
    reps++
  }
  const elapsed = (performance.now() - start) / 1000
  a.dispose()
  b.dispose()
  return (2 * n ** 3 * reps) / elapsed
}
