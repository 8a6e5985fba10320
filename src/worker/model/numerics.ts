import type * as tf from '@tensorflow/tfjs-core'

/**
 * How the model multiplies matrices. The default is plain float32; reduced-precision
 * training supplies one that rounds the inputs to bf16/fp16/fp8 (src/worker/train/precision).
 * Only the large GEMMs go through here; router, norms and softmax stay float32, as in
 * DeepSeek-V3's FP8 recipe.
 *
 * The right operand's rank says what it is (QAT rounds weights only): rank 2 a weight
 * (D, out); rank 3 a stack of MoE experts' weights (E, D, out) against their rows
 * (E, C, D); rank 4 attention's activation products (B, H, ·, ·).
 */
export interface Numerics {
  matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor
}
