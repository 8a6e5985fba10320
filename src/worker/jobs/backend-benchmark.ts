import type { JobHandler } from '../context'

/**
 * Time (size x size) @ (size x size) matmuls for a few seconds and report GFLOP/s:
 * 2·n³ floating-point operations per product. The first product warms up kernels and
 * is not counted.
 */
export const backendBenchmark: JobHandler<'backend.benchmark'> = async ({ seconds, size }, ctx) => {
  const { tf, info } = await ctx.backend()
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1) // (n, n)
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2) // (n, n)
  const flops = 2 * size ** 3
  // Reading the product waits for it (a GPU queues work and returns at once). Not inside
  // tf.tidy: tidy walks a returned TypedArray element by element looking for tensors.
  const product = async (): Promise<void> => {
    const c = tf.matMul(a, b) // (n, n)
    await c.data()
    c.dispose()
  }
  const rates: number[] = []
  try {
    await product()
    const start = performance.now()
    let lastReport = 0
    while ((performance.now() - start) / 1000 < seconds) {
      ctx.throwIfCancelled()
      const t0 = performance.now()
      await product()
      rates.push(flops / ((performance.now() - t0) / 1000) / 1e9)
      const elapsed = (performance.now() - start) / 1000
      if (elapsed - lastReport >= 0.25) {
        lastReport = elapsed
        ctx.progress({
          done: Math.min(elapsed, seconds),
          total: seconds,
          unit: 's',
          metrics: { gflops: median(rates) },
        })
      }
      // Let cancel messages in between products.
      await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    a.dispose()
    b.dispose()
  }
  return {
    backend: info.name,
    size,
    iterations: rates.length,
    gflops: median(rates),
    bestGflops: Math.max(...rates),
  }
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
