import * as tf from '@tensorflow/tfjs-core'
import { hasFusedKernel } from '../kernels/fused'
import { CROSS_ENTROPY, CROSS_ENTROPY_GRAD } from '../kernels/webgpu-cross-entropy'
import { customGradient } from './ops'

/**
 * Mean cross-entropy of logits (N, V) against integer targets (N), with label
 * smoothing ε: the target distribution is (1-ε)·onehot + ε/V. One fused op whose
 * gradient is the closed form (softmax(z) - target)/N, computed from the forward's
 * softmax rather than differentiated op by op. With `weights` (N), each row's loss is
 * multiplied by its weight first (fine-tuning: 0 for prompt tokens; the caller scales them
 * to mean 1 so this stays the mean over the rows that count).
 */
export function crossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  smoothing = 0,
  weights: tf.Tensor1D | null = null,
): tf.Scalar {
  if (hasFusedKernel(CROSS_ENTROPY)) return fusedCrossEntropy(logits, targets, smoothing, weights)
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
    if (weights) rows = tf.mul(rows, weights)
    const value = tf.mean<tf.Scalar>(rows)
    save([tf.div(ez, se), targets])
    return {
      value,
      gradFunc: (dy, saved) => {
        const [p, t] = saved as [tf.Tensor2D, tf.Tensor1D]
        const target = tf.add(tf.mul(tf.oneHot(t, V), 1 - smoothing), smoothing / V) // (N, V)
        const g = tf.mul(tf.sub(p, target), tf.div(dy, N)) // (N, V)
        return [weights ? tf.mul(g, tf.reshape(weights, [N, 1])) : g]
      },
    }
  })
  return op(logits)
}

/**
 * crossEntropy in the backend's fused kernels (webgpu): one launch for the rows' losses and
 * one for the gradient, which recomputes each row's log-sum-exp rather than keeping the
 * probabilities (N, V) from the forward.
 */
function fusedCrossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  smoothing: number,
  weights: tf.Tensor1D | null,
): tf.Scalar {
  const [N] = logits.shape
  const extra = (wt: tf.Tensor | undefined): tf.NamedTensorMap => (wt ? { wt } : {})
  const op = customGradient<tf.Scalar>(([z], save) => {
    save(weights ? [z, targets, weights] : [z, targets])
    const rows = tf
      .engine()
      .runKernel<tf.Tensor1D>(
        CROSS_ENTROPY,
        { z, t: targets, ...extra(weights ?? undefined) },
        { smoothing },
      )
    return {
      value: tf.mean<tf.Scalar>(rows),
      gradFunc: (dy, [zs, t, wt]) => [
        tf
          .engine()
          .runKernel<tf.Tensor>(
            CROSS_ENTROPY_GRAD,
            { z: zs, t, dy, ...extra(wt) },
            { smoothing, scale: 1 / N },
          ),
      ],
    }
  })
  return op(logits)
}

/**
 * Hinton's distillation term: T² · mean over rows of KL(p_t ‖ softmax(z / T)), where
 * `teacher` (N, V) holds the teacher's probabilities at the same temperature T. The T²
 * keeps the gradient's scale independent of T: d/dz = T · (softmax(z / T) − p_t) / N, the
 * closed form used as the gradient. Rows of the teacher that are zero contribute nothing
 * to its entropy (0 · log 0 = 0).
 */
export function distillationKl(
  logits: tf.Tensor2D,
  teacher: tf.Tensor2D,
  temperature: number,
): tf.Scalar {
  const [N] = logits.shape
  const T = temperature
  const op = customGradient<tf.Scalar>(([z, pt], save) => {
    const zt = tf.div(z, T) // (N, V)
    const logPs = tf.logSoftmax(zt) // (N, V)
    const p = pt as tf.Tensor2D
    const logPt = tf.log(tf.maximum(p, 1e-30)) // (N, V); only multiplied by p
    const rows = tf.sum(tf.mul(p, tf.sub(logPt, logPs)), -1) // (N)
    const value = tf.mul<tf.Scalar>(tf.mean(rows), T * T)
    save([tf.exp(logPs), p])
    return {
      value,
      gradFunc: (dy, saved) => {
        const [ps, q] = saved as [tf.Tensor2D, tf.Tensor2D]
        // The teacher is a constant: no gradient flows into it.
        return [tf.mul(tf.sub(ps, q), tf.mul(dy, T / N)), tf.zerosLike(q)]
      },
    }
  })
  return op(logits, teacher)
}

/** The teacher's soft targets: softmax(logits / T), (N, V). */
export function softTargets(logits: tf.Tensor2D, temperature: number): tf.Tensor2D {
  return tf.softmax(tf.div<tf.Tensor2D>(logits, temperature))
}

/**
 * log softmax(z)[target] of each row, (N): a sequence's log-probability is their sum. The
 * gradient is the closed form (onehot(target) − softmax(z)) · dy per row.
 */
export function targetLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [N, V] = logits.shape
  const op = customGradient<tf.Tensor1D>(([z], save) => {
    const zt = z as tf.Tensor2D
    const m = tf.max(zt, -1, true) // (N, 1)
    const ez = tf.exp(tf.sub(zt, m)) // (N, V)
    const se = tf.sum(ez, -1, true) // (N, 1)
    const lse = tf.reshape(tf.add(tf.log(se), m), [N]) // (N)
    const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets) // (N)
    const value = tf.sub<tf.Tensor1D>(tf.gather(tf.reshape(zt, [N * V]), flat), lse)
    save([tf.div(ez, se), targets])
    return {
      value,
      gradFunc: (dy, saved) => {
        const [p, t] = saved as [tf.Tensor2D, tf.Tensor1D]
        return [tf.mul(tf.sub(tf.oneHot(t, V), p), tf.reshape(dy, [N, 1]))]
      },
    }
  })
  return op(logits)
}
