import type * as tfc from '@tensorflow/tfjs-core'

/** Backends whose matmul is fast only without transpose flags (measured: 10-25x slower with them). */
const preferExplicitTranspose = new Set(['wasm', 'cpu'])

/**
 * The BatchMatMul gradient, re-registered so that on wasm and cpu every product is an
 * untransposed matmul of explicitly transposed operands. The stock gradient uses the
 * transpose flags; on wasm that one change made a whole training step several times
 * faster. Other backends (native TensorFlow, WebGL) keep the flags.
 */
export function registerMatMulGradient(tf: typeof tfc): void {
  const T = (x: tfc.Tensor): tfc.Tensor => {
    const r = x.rank
    const perm = Array.from({ length: r }, (_, i) => i)
    perm[r - 2] = r - 1
    perm[r - 1] = r - 2
    return tf.transpose(x, perm)
  }
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
      const mm = tf.matMul
      if (!preferExplicitTranspose.has(tf.getBackend())) {
        if (!transposeA && !transposeB)
          return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) }
        if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(g, a, true, false) }
        if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g) }
        return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) }
      }
      if (!transposeA && !transposeB) return { a: () => mm(g, T(b)), b: () => mm(T(a), g) }
      if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(T(g), a) }
      if (transposeA && !transposeB) return { a: () => mm(b, T(g)), b: () => mm(a, g) }
      return { a: () => mm(T(b), T(g)), b: () => mm(T(g), T(a)) }
    },
  })
}
