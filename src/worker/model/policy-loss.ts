import * as tf from '@tensorflow/tfjs-core'
import { targetLogProbs } from './loss'

/** GRPO's objective: how far the ratio may move, and the KL penalty's weight. */
export interface PolicyObjective {
  /** ε: ratios are clipped to [1 − ε, 1 + ε]. */
  clip: number
  /** β: the weight of the KL penalty to the reference model (0: none). */
  klBeta: number
}

/**
 * Where a GRPO batch's replies are: one sampled sequence (prompt and reply) per row of T
 * targets, right-padded. Per target (N = R·T) and per row (R).
 */
export interface PolicyLayout {
  /** (N) 1 where the target is a token of the reply, 0 for the prompt and padding. */
  mask: Float32Array
  /** (R) each row's advantage: its reward's standing in its group. */
  advantage: Float32Array
  /** (R) the reply's tokens (at least 1: a row always holds a reply). */
  tokens: Float32Array
  /** (N) each target's log-probability under the model that sampled it (π_old). */
  old: Float32Array
  /** (N) under the reference model, when the objective has a KL penalty; else null. */
  reference: Float32Array | null
}

export interface PolicyOutput {
  /** −(1/R) Σ_rows (1/|o|) Σ_t [min(ρ·A, clip(ρ)·A) − β·KL_t]. */
  loss: tf.Scalar
  /** Mean of the per-token KL estimate over the replies' tokens (0 without a reference). */
  kl: tf.Scalar
  /** Share of the replies' tokens whose ratio the clip holds back. */
  clipped: tf.Scalar
}

/**
 * GRPO's loss (Shao et al. 2024, DeepSeekMath §4.1) from the policy's logits (N, V): per
 * reply token, the PPO-clipped surrogate with the group-normalized advantage of its reply,
 * minus β times the unbiased KL estimate to the reference,
 *   KL_t = π_ref/π_θ − log(π_ref/π_θ) − 1   (Schulman's k3, ≥ 0),
 * averaged over each reply's tokens, then over the replies.
 */
export function policyLoss(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  layout: PolicyLayout,
  objective: PolicyObjective,
  T: number,
): PolicyOutput {
  const R = layout.advantage.length
  const logp = tf.reshape(targetLogProbs(logits, targets), [R, T]) // (R, T)
  const mask = tf.tensor2d(layout.mask, [R, T])
  const ratio = tf.exp(tf.sub(logp, tf.tensor2d(layout.old, [R, T]))) // (R, T)
  const A = tf.tensor2d(layout.advantage, [R, 1]) // (R, 1)
  const { clip, klBeta } = objective
  const surrogate = tf.minimum(
    tf.mul(ratio, A),
    tf.mul(tf.clipByValue(ratio, 1 - clip, 1 + clip), A),
  ) // (R, T)
  const kl = layout.reference
    ? (() => {
        const d = tf.sub(tf.tensor2d(layout.reference, [R, T]), logp) // log π_ref − log π_θ
        return tf.sub(tf.sub(tf.exp(d), d), 1) // (R, T)
      })()
    : tf.zerosLike(logp)
  const perToken = klBeta > 0 ? tf.sub(surrogate, tf.mul(kl, klBeta)) : surrogate
  const perReply = tf.div(tf.sum(tf.mul(perToken, mask), 1), tf.tensor1d(layout.tokens)) // (R)
  const replyTokens: tf.Scalar = tf.sum(mask)
  // The clip holds a token back when the clipped term is the smaller: ρ left the band
  // in the direction its advantage pushes.
  const held = tf.logicalOr(
    tf.logicalAnd(tf.greater(ratio, 1 + clip), tf.greater(A, 0)),
    tf.logicalAnd(tf.less(ratio, 1 - clip), tf.less(A, 0)),
  )
  return {
    loss: tf.neg<tf.Scalar>(tf.mean<tf.Scalar>(perReply)),
    kl: tf.div<tf.Scalar>(tf.sum(tf.mul(kl, mask)), replyTokens),
    clipped: tf.div<tf.Scalar>(tf.sum(tf.mul(tf.cast(held, 'float32'), mask)), replyTokens),
  }
}

/** Each target's log-probability (N) under a model's logits, read without a tape: π_old and π_ref. */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => targetLogProbs(logits, targets))
}
