import * as tf from '@tensorflow/tfjs-core'
import { customGradient } from './ops'

/**
 * Mean cross-entropy of logits (N, V) against integer targets (N), with label
 * smoothing ε: the target distribution is (1-ε)·onehot + ε/V. One fused op whose
 * gradient is the closed form (softmax(z) - target)/N, computed from the forward's
 * softmax rather than differentiated op by op.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, smoothing = 0): tf.Scalar {
  const [N, V] = logits.shape
  const op = customGradient<tf.Scalar>(([z], save) => {
    const zt = z as tf.Tensor2D
    const m = tf.max(zt, -1, true) // (N, 1)
    const ez = tf.exp(tf.sub(zt, m)) // (N, V)
    const se = tf.sum(ez, -1, true) // (N, 1)
    const lse = tf.add(tf.log(se), m) // (N, 1)
    const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets) // (N) index of each target
    const zTarget = tf.gather(tf.reshape(zt, [N * V]), flat) // (N)
    let rows = tf.sub(tf.reshape(lse, [N]), tf.mul(zTarget, 1 - smoothing))
    if (smoothing > 0) rows = tf.sub(rows, tf.mul(tf.mean(zt, -1), smoothing))
    const value = tf.mean<tf.Scalar>(rows)
    save([tf.div(ez, se), targets])
    return {
      value,
      gradFunc: (dy, saved) => {
        const [p, t] = saved as [tf.Tensor2D, tf.Tensor1D]
        const target = tf.add(tf.mul(tf.oneHot(t, V), 1 - smoothing), smoothing / V) // (N, V)
        return [tf.mul(tf.sub(p, target), tf.div(dy, N))]
      },
    }
  })
  return op(logits)
}
