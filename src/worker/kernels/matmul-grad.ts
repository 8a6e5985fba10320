import type * as tfc from '@tensorflow/tfjs-core'

/** Backends whose matmul is fast only without transpose flags (measured: 10-25x slower with them). */
const preferExplicitTranspose = new Set(['wasm', 'cpu'])

/** x with its last two axes swapped, on the given tfjs instance (model/ops.ts's transposeLast2). */
export function swapLast2(tf: typeof tfc, x: tfc.Tensor): tfc.Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i)
  perm[x.rank - 2] = x.rank - 1
  perm[x.rank - 1] = x.rank - 2
  return tf.transpose(x, perm)
}

/**
 * a·b with either operand transposed (batched alike), the way the current backend is
 * fastest: transpose flags where the backend handles them, explicitly transposed operands
 * and a plain matmul on wasm and cpu.
 */
export function transposedProduct(
  tf: typeof tfc,
  a: tfc.Tensor,
  b: tfc.Tensor,
  transposeA: boolean,
  transposeB: boolean,
): tfc.Tensor {
  if (!preferExplicitTranspose.has(tf.getBackend())) return tf.matMul(a, b, transposeA, transposeB)
  return tf.matMul(transposeA ? swapLast2(tf, a) : a, transposeB ? swapLast2(tf, b) : b)
}

/**
 * The BatchMatMul gradient, re-registered so that on wasm and cpu every product is an
 * untransposed matmul of explicitly transposed operands (`transposedProduct`). The stock
 * gradient uses the transpose flags; on wasm that one change made a whole training step
 * several times faster. Other backends (native TensorFlow, WebGL, WebGPU) keep the flags.
 */
export function registerMatMulGradient(tf: typeof tfc): void {
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tfc.Tensor, tfc.Tensor]
      const g = dy as tfc.Tensor
      const { transposeA, transposeB } = attrs as unknown as {
        transposeA: boolean
        transposeB: boolean
      }
      const mm = (x: tfc.Tensor, y: tfc.Tensor, tx = false, ty = false) =>
        transposedProduct(tf, x, y, tx, ty)
      if (!transposeA && !transposeB)
        return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) }
      if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(g, a, true, false) }
      if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g) }
      return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) }
    },
  })
}
