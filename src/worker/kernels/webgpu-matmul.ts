import type * as tfc from '@tensorflow/tfjs-core'

/**
 * A correction to tfjs-backend-webgpu 4.22's matmul: products it gives to its split-K
 * program with b transposed come out wrong.
 *
 * For a small output over a long inner dimension (batch 1, few 32×32 tiles, inner ≥ 2000)
 * the backend splits the inner dimension across workgroups (`MatMulSplitKProgram`), and
 * that program reads a transposed b wrongly, in its four-wide form and its scalar one (a
 * transposed a is read right). Found by a Frugal test: the gradient of a 64-token batch
 * through a head over a 4,096-word vocabulary (dy·Wᵀ) was off by a factor of 20 on Mesa's
 * llvmpipe; with b transposed explicitly it matches the CPU backends. Training's usual
 * shapes (thousands of rows) take the packed program, which is right; short batches,
 * sampling and small adapters' products can take this one.
 *
 * Here exactly those products get b transposed first and multiplied untransposed. b is
 * small in them (its rows are the small output's columns), so the copy costs little.
 * `test/unit/kernels/webgpu-matmul.test.ts` checks every transpose combination against
 * an explicit transpose on shapes that take each of the backend's matmul programs.
 */

interface MatMulAttrs {
  transposeA: boolean
  transposeB: boolean
}

interface WebGpuBackend {
  thresholdToIncreaseWorkgroups: number
  disposeData(dataId: tfc.DataId): boolean
}

/** Whether the stock kernel runs this product with its split-K program (BatchMatMul_impl.js). */
function takesSplitK(
  tf: typeof tfc,
  backend: WebGpuBackend,
  a: tfc.TensorInfo,
  b: tfc.TensorInfo,
  { transposeA, transposeB }: MatMulAttrs,
): boolean {
  if (tf.env().getNumber('WEBGPU_MATMUL_PROGRAM_TYPE') >= 0) return false // a forced program
  const [ra, rb] = [a.shape.length, b.shape.length]
  const outerA = transposeA ? a.shape[ra - 1] : a.shape[ra - 2]
  const outerB = transposeB ? b.shape[rb - 2] : b.shape[rb - 1]
  const inner = transposeB ? b.shape[rb - 1] : b.shape[rb - 2]
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1)
  const batch = Math.max(size(a.shape.slice(0, -2)), size(b.shape.slice(0, -2)))
  const flag = tf.env().getNumber('WEBGPU_THRESHOLD_TO_INCREASE_WORKGROUPS_FOR_MATMUL')
  const threshold = flag > 0 ? flag : backend.thresholdToIncreaseWorkgroups
  const workgroups = batch * Math.ceil(outerA / 32) * Math.ceil(outerB / 32)
  const few = workgroups <= threshold || (outerA <= 8 && workgroups <= threshold * 2)
  return few && batch * outerA * outerB > 128 && batch === 1 && inner >= 2000
}

export function registerWebGpuMatMulFix(tf: typeof tfc): boolean {
  const stock = tf.getKernel('BatchMatMul', 'webgpu')
  const transpose = tf.getKernel('Transpose', 'webgpu')
  if (!stock || !transpose) return false
  const stockKernel = stock.kernelFunc
  tf.unregisterKernel('BatchMatMul', 'webgpu')
  tf.registerKernel({
    ...stock,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tfc.TensorInfo; b: tfc.TensorInfo }
      const attrs = args.attrs as unknown as MatMulAttrs
      const backend = args.backend as unknown as WebGpuBackend
      if (!attrs.transposeB || !takesSplitK(tf, backend, a, b, attrs)) return stockKernel(args)
      const perm = Array.from(b.shape, (_, i) => i)
      perm.splice(-2, 2, perm.length - 1, perm.length - 2)
      const bt = transpose.kernelFunc({
        inputs: { x: b },
        attrs: { perm },
        backend: args.backend,
      }) as tfc.TensorInfo
      try {
        return stockKernel({
          ...args,
          inputs: { a, b: bt },
          attrs: { ...args.attrs, transposeB: false },
        })
      } finally {
        // The backend keeps a buffer its queued work reads until that work is submitted.
        backend.disposeData(bt.dataId)
      }
    },
  })
  return true
}
