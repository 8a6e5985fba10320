import type * as tf from '@tensorflow/tfjs-core'

/**
 * How the model multiplies matrices. The default is plain float32; reduced-precision
 * training supplies one that rounds the inputs to bf16/fp16/fp8 (src/worker/train/precision).
 * Only the large GEMMs go through here; router, norms and softmax stay float32, as in
 * DeepSeek-V3's FP8 recipe.
 */
export interface Numerics {
  matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor
}
