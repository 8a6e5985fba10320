import * as tf from '@tensorflow/tfjs-core'
import { targetLogProbs } from './loss'

/** How a preference run scores a pair (see preferenceLoss). */
export interface PreferenceObjective {
  /** reward: a reward model's scores under Bradley-Terry (β 1, γ 0). */
  kind: 'dpo' | 'simpo' | 'reward'
  /** β: the scale of the implicit reward. */
  beta: number
  /** SimPO's target margin γ between the two rewards (0 for DPO). */
  margin: number
}

/** Where a batch's preference pairs are: which targets form which reply, and their references. */
export interface PreferenceLayout {
  /** (N) the reply each target belongs to (an index below `replies`), for every row. */
  reply: Int32Array
  /** (N) 1 where the target is part of a reply, 0 for prompt and padding. */
  mask: Float32Array
  replies: number
  /** (R) where each reply's last token is an input (its row's index in the N rows): a reward model reads its score there. */
  last: Int32Array
  /** (P) the reply index of each pair's chosen and rejected reply. */
  chosen: Int32Array
  rejected: Int32Array
  /** (P) their tokens (SimPO averages over them). */
  chosenTokens: Float32Array
  rejectedTokens: Float32Array
  /** (P) their log-probabilities under the reference model (DPO); null for SimPO. */
  refChosen: Float32Array | null
  refRejected: Float32Array | null
}

export interface PreferenceOutput {
  /** Mean −log σ(z) over the pairs. */
  loss: tf.Scalar
  /** Means over the pairs of the chosen and rejected rewards, and of z > 0 (the pair is ordered right). */
  chosenReward: tf.Scalar
  rejectedReward: tf.Scalar
  accuracy: tf.Scalar
  /**
   * The share of pairs whose chosen reply the model itself finds likelier, per token (its
   * mean log-probability is higher): unlike the rewards, the same measure for any model,
   * the one a run starts from included.
   */
  preferred: tf.Scalar
}

/**
 * The preference losses of DPO (Rafailov et al. 2023) and SimPO (Meng et al. 2024) from the
 * policy's logits (N, V) over a batch of packed replies. A reply's log-probability log π(y|x)
 * is the sum of its targets' log-probabilities; its reward is
 *   DPO:   r = β · (log π(y|x) − log π_ref(y|x))
 *   SimPO: r = β · log π(y|x) / |y|
 * and the loss is −log σ(r_chosen − r_rejected − γ), γ = 0 for DPO.
 */
export function preferenceLoss(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  layout: PreferenceLayout,
  objective: PreferenceObjective,
): PreferenceOutput {
  if (objective.kind === 'reward') return bradleyTerryLoss(logits, layout)
  const { beta } = objective
  const logp = tf.mul(targetLogProbs(logits, targets), tf.tensor1d(layout.mask)) // (N)
  const perReply = tf.unsortedSegmentSum(logp, tf.tensor1d(layout.reply, 'int32'), layout.replies) // (R)
  const c = tf.gather(perReply, tf.tensor1d(layout.chosen, 'int32')) // (P)
  const r = tf.gather(perReply, tf.tensor1d(layout.rejected, 'int32')) // (P)
  const reward = (lp: tf.Tensor1D, ref: Float32Array | null, tokens: Float32Array) =>
    objective.kind === 'dpo'
      ? tf.mul<tf.Tensor1D>(tf.sub(lp, tf.tensor1d(ref!)), beta)
      : tf.mul<tf.Tensor1D>(tf.div(lp, tf.tensor1d(tokens)), beta)
  const rc = reward(c as tf.Tensor1D, layout.refChosen, layout.chosenTokens)
  const rr = reward(r as tf.Tensor1D, layout.refRejected, layout.rejectedTokens)
  const z = tf.sub(tf.sub(rc, rr), objective.margin) // (P)
  return {
    loss: tf.mean<tf.Scalar>(tf.softplus(tf.neg(z))),
    chosenReward: tf.mean<tf.Scalar>(rc),
    rejectedReward: tf.mean<tf.Scalar>(rr),
    accuracy: tf.mean<tf.Scalar>(tf.cast(tf.greater(rc, rr), 'float32')),
    preferred: tf.mean<tf.Scalar>(
      tf.cast(
        tf.greater(
          tf.div(c, tf.tensor1d(layout.chosenTokens)),
          tf.div(r, tf.tensor1d(layout.rejectedTokens)),
        ),
        'float32',
      ),
    ),
  }
}

/**
 * A reward model's loss (Bradley-Terry, as in Ouyang et al. 2022): from its scores (N, 1),
 * each reply's reward is the score at its last token, and the loss is −log σ(r_chosen −
 * r_rejected). Here the model's own preference is the same ordering, so `preferred` is
 * the accuracy.
 */
function bradleyTerryLoss(scores: tf.Tensor2D, layout: PreferenceLayout): PreferenceOutput {
  const reward = tf.gather(tf.reshape(scores, [-1]), tf.tensor1d(layout.last, 'int32')) // (R)
  const rc = tf.gather(reward, tf.tensor1d(layout.chosen, 'int32')) // (P)
  const rr = tf.gather(reward, tf.tensor1d(layout.rejected, 'int32')) // (P)
  const accuracy = tf.mean<tf.Scalar>(tf.cast(tf.greater(rc, rr), 'float32'))
  return {
    loss: tf.mean<tf.Scalar>(tf.softplus(tf.neg(tf.sub(rc, rr)))),
    chosenReward: tf.mean<tf.Scalar>(rc),
    rejectedReward: tf.mean<tf.Scalar>(rr),
    accuracy,
    preferred: tf.clone(accuracy),
  }
}

/** Each reply's log-probability (R) under a model's logits: for the reference pass. */
export function replyLogProbs(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  layout: Pick<PreferenceLayout, 'reply' | 'mask' | 'replies'>,
): tf.Tensor1D {
  return tf.tidy(() =>
    tf.unsortedSegmentSum<tf.Tensor1D>(
      tf.mul<tf.Tensor1D>(targetLogProbs(logits, targets), tf.tensor1d(layout.mask)),
      tf.tensor1d(layout.reply, 'int32'),
      layout.replies,
    ),
  )
}
