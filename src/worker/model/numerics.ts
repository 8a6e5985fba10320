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
  /**
   * The output head's product, (N, D)·(D, V), where it differs from `matmul`: reduced
   * precision rounds its inputs as any product's, but its backward takes the (N, V) output
   * gradient as it comes, in float32, where `matmul` would make a rounded copy as large as
   * the logits at the top of the backward, where a step's memory peaks (DeepSeek-V3 keeps
   * its output head in higher precision than its GEMMs too). Absent: `matmul`.
   */
  outputHead?: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor
  /**
   * The gradient of `matmul(a, b)` with respect to `a`, computed as this numerics' backward
   * computes it (dy·bᵀ, rounded where it rounds): for an operation that writes its own
   * backward around such a product (LoRA's adapted projection, layers/linear.ts). Absent
   * where it cannot be given apart from the forward (QAT's).
   */
  inputGradient?: (dy: tf.Tensor, b: tf.Tensor, how?: InputGradientOptions) => tf.Tensor
  /**
   * Where attention may run as one fused kernel (layers/attention.ts, webgpu), which
   * multiplies in float32: what q, k and v become first (the identity for plain float32;
   * rounding to the format in 16-bit runs on webgpu, where the probabilities and the
   * backward's gradients then stay float32 inside the kernel). Absent where attention's
   * products must go through `matmul` (the emulated formats on CPU backends, fp8).
   */
  attentionInputs?: (t: tf.Tensor2D) => tf.Tensor2D
  /**
   * How a fused operation (RMSNorm, SwiGLU's gate) keeps an activation for its backward
   * pass: in 16 bits for bf16/fp16 on a backend that stores 16 bits (webgpu), as a 16-bit
   * kernel's output would have been stored, which halves what a step holds between its
   * passes. Absent: kept as it is, in float32.
   */
  saved?: ActivationStore
  /**
   * Runs `use`, during which every product that reads `x` (the same tensor) keeps one
   * copy of it for the backward pass between them, rather than each its own: q, k and v
   * of one normed input, a SwiGLU's gate and up. Absent where products keep nothing of
   * their own (plain float32 keeps x itself, once).
   */
  sharedInput?: <T>(x: tf.Tensor, use: () => T) => T
}

/** How `inputGradient` is asked for: of another product, or with b given transposed. */
export interface InputGradientOptions {
  /** b is given as bᵀ (a tied head's embedding, (V, D), for b = Eᵀ): dy·b then. */
  transposed?: boolean
  /** The gradient as `outputHead`'s backward computes it (dy as it comes, not rounded). */
  outputHead?: boolean
}

/** numerics.sharedInput where it has one, else `use` as it is. */
export function withSharedInput<T>(numerics: Numerics, x: tf.Tensor, use: () => T): T {
  return numerics.sharedInput ? numerics.sharedInput(x, use) : use()
}

/** An activation kept for the backward pass in another form, and given back in float32. */
export interface ActivationStore {
  keep(t: tf.Tensor): tf.Tensor
  /** What `keep` made, in float32 again, shaped `shape`. */
  restore(kept: tf.Tensor, shape: number[]): tf.Tensor
}
