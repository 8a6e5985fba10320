import * as tf from '@tensorflow/tfjs-core'

/** RMSNorm: x / √(mean(x²) + ε) · w. x: (N, D), w: (D). */
export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true) // (N, 1)
    return tf.mul<tf.Tensor2D>(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w)
  })
}
