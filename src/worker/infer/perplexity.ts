import * as tf from '@tensorflow/tfjs-core'
import { windowBatch } from '../train/data'
import { inferenceConfig, type ModelConfig } from '../model/config'
import { crossEntropy } from '../model/loss'
import { Transformer, type Params } from '../model/model'
import { readSum } from '../kernels/host-views'
import type { PerplexityResult } from '../../shared/jobs'

/** loss: mean cross-entropy per predicted token, in nats; tokens: tokens predicted. */
export type { PerplexityResult } from '../../shared/jobs'

/**
 * Perplexity over a token stream: consecutive, non-overlapping windows of the model's
 * context (each token predicted once, from the tokens before it in its window), in
 * batches. The forward is the training one, without the MoE capacity limit.
 */
export async function perplexity(
  config: ModelConfig,
  params: Params,
  tokens: Uint16Array | Int32Array,
  options: {
    maxTokens?: number
    batch?: number
    onProgress?: (tokens: number, total: number) => void
    throwIfCancelled?: () => void
  } = {},
): Promise<PerplexityResult> {
  const started = performance.now()
  const T = config.contextLength
  const B = options.batch ?? 8
  const model = new Transformer(inferenceConfig(config))
  const usable = Math.min(tokens.length - 1, options.maxTokens ?? Infinity)
  const windows = Math.floor(usable / T)
  if (windows < 1) throw new Error(`${tokens.length} tokens cannot fill one window of ${T + 1}.`)
  // Each batch's summed loss stays on the device; one read at the end.
  const sums: tf.Scalar[] = []
  let counted = 0
  try {
    for (let w = 0; w < windows; w += B) {
      options.throwIfCancelled?.()
      const b = Math.min(B, windows - w)
      const { inputs, targets } = windowBatch(tokens, w, b, T)
      const ids = tf.tensor1d(inputs, 'int32')
      const { logits, aux } = await model.forwardAsync(params, ids, b, T)
      sums.push(
        tf.tidy(() =>
          tf.mul<tf.Scalar>(crossEntropy(logits, tf.tensor1d(targets, 'int32')), b * T),
        ),
      )
      tf.dispose([ids, logits, ...(aux ? [aux] : [])])
      counted += b * T
      options.onProgress?.(counted, windows * T)
    }
  } catch (err) {
    tf.dispose(sums)
    throw err
  } finally {
    model.dispose()
  }
  const mean = (await readSum(sums)) / counted
  return {
    loss: mean,
    perplexity: Math.exp(mean),
    tokens: counted,
    wallMs: performance.now() - started,
  }
}
