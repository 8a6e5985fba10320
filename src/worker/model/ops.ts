import * as tf from '@tensorflow/tfjs-core'
import { swapLast2 } from '../kernels/matmul-grad'

/**
 * Row gather and scatter-add with explicit gradients: each is the other's backward.
 * tf.gather's stock gradient goes through UnsortedSegmentSum too, but these also give MoE
 * dispatch a scatter that sums duplicates (a token routed to k experts).
 */

/**
 * tf.customGrad with typed arguments: `f` gets the input tensors and tfjs's save function
 * (tensors it needs in the backward must be saved, not captured: captured ones are disposed).
 * The backward runs in its own tidy: tfjs calls a custom gradient outside the per-input
 * tidy its registered gradients get, so whatever one made besides its result (a rounded
 * copy, a one-hot target, a transpose) stayed alive until the whole backward pass ended.
 */
export function customGradient<T extends tf.Tensor>(
  f: (
    inputs: tf.Tensor[],
    save: tf.GradSaveFunc,
  ) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] },
): (...inputs: tf.Tensor[]) => T {
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const { value, gradFunc } = f(
      args.slice(0, -1) as tf.Tensor[],
      args[args.length - 1] as tf.GradSaveFunc,
    )
    return { value, gradFunc: (dy: T, saved: tf.Tensor[]) => tf.tidy(() => gradFunc(dy, saved)) }
  }) as never)
  return (...inputs) => op(...inputs) as T
}

/** x[idx] along axis 0: (N, ...) -> (M, ...). Gradient: scatter-add back into N rows. */
export function gatherRows(x: tf.Tensor, idx: tf.Tensor1D): tf.Tensor {
  const n = x.shape[0]
  const op = customGradient(([t], save) => {
    save([idx])
    return {
      value: tf.gather(t, idx),
      gradFunc: (dy, saved) => [tf.unsortedSegmentSum(dy, saved[0] as tf.Tensor1D, n)],
    }
  })
  return op(x)
}

/** out[idx[i]] += y[i]: (M, ...) -> (N, ...). Gradient: gather. */
export function scatterAddRows(y: tf.Tensor, idx: tf.Tensor1D, n: number): tf.Tensor {
  const op = customGradient(([t], save) => {
    save([idx])
    return {
      value: tf.unsortedSegmentSum(t, idx, n),
      gradFunc: (dy, saved) => [tf.gather(dy, saved[0])],
    }
  })
  return op(y)
}

/**
 * A residual connection x + y (or x + y·scale, scale (N, 1) per row: DropPath's mask), both
 * (N, D); the gradient reaches x as it is and y scaled. tfjs's Add and Mul keep their inputs
 * for the backward (Add only for their shapes), so composed, every block kept float32
 * copies of its residual stream and of both branches' outputs that nothing needed.
 */
export function residual<T extends tf.Tensor>(x: T, y: T, scale: tf.Tensor | null = null): T {
  const op = customGradient<T>(([a, b], save) => {
    if (scale) save([scale])
    return {
      value: tf.add<T>(a, scale ? tf.mul(b, scale) : b),
      // A clone, not dy twice: tfjs's own backward disposes a gradient it adds to.
      gradFunc: (dy, saved) => [dy, scale ? tf.mul(dy, saved[0]) : tf.clone(dy)],
    }
  })
  return op(x, y)
}

/**
 * y + b for a bias b (out) on rows y (N, out), keeping nothing for the backward: tfjs's Add
 * keeps both inputs to reduce the broadcast gradient, here the bias's gradient is the
 * column sums of dy.
 */
export function addBias(y: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const op = customGradient<tf.Tensor2D>(([rows, bias]) => ({
    value: tf.add(rows, bias),
    gradFunc: (dy) => [dy, tf.sum(dy, 0)],
  }))
  return op(y, b)
}

/** Swap the last two axes. */
export function transposeLast2(x: tf.Tensor): tf.Tensor {
  return swapLast2(tf, x)
}

/**
 * A variable holding `init`'s values. tf.variable shares the initial tensor's data, so the
 * initial tensor must be disposed too, or disposing the variable frees nothing.
 */
export function ownedVariable(init: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(init, trainable)
  init.dispose()
  return v
}
