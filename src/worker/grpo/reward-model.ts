import * as tf from '@tensorflow/tfjs-core'
import { readTogether } from '../kernels/host-views'
import { rewardParams } from '../infer/reward'
import { disposeParams } from '../infer/load'
import type { ModelConfig } from '../model/config'
import { Transformer, type Params } from '../model/model'
import { paddedRows } from '../infer/padded-rows'

/** A reward run's checkpoint: its model config and weights (the scalar head among them). */
export interface RewardModelWeights {
  config: ModelConfig
  weights: ReadonlyMap<string, Float32Array>
}

/** Rows scored per pass: a bound on the reward model's activations beside the policy's. */
const ROWS_PER_PASS = 64

/**
 * A reward model held for a GRPO run's `reward-model` rule: it scores sampled replies laid
 * out as it was trained on them (document start, the prompt through the chat template, the
 * reply and its end-of-turn token) at their last token, many rows per pass.
 */
export class RewardScorer {
  private readonly model: Transformer
  private readonly params: Params

  constructor(m: RewardModelWeights) {
    this.model = new Transformer(m.config, null, 'score')
    this.params = rewardParams(m.config, m.weights)
  }

  /** Each sequence's score; undefined for one longer than the reward model's context. */
  async score(sequences: readonly (readonly number[])[]): Promise<(number | undefined)[]> {
    const out: (number | undefined)[] = sequences.map(() => undefined)
    const context = this.model.config.contextLength
    const fits = sequences.map((_, i) => i).filter((i) => sequences[i].length <= context)
    for (let first = 0; first < fits.length; first += ROWS_PER_PASS) {
      const rows = fits.slice(first, first + ROWS_PER_PASS)
      const { R, L, ids, positions, last } = paddedRows(rows.map((i) => sequences[i]))
      const tables = this.model.packedTables(positions, new Int32Array(R * L), R, L)
      const input = tf.tensor1d(ids, 'int32')
      const { logits, aux } = await this.model.forwardAsync(this.params, input, R, L, { tables })
      // (R·L, 1) scores: each row's at its last token.
      const picked = tf.tidy(() => tf.gather(tf.reshape(logits, [-1]), tf.tensor1d(last, 'int32')))
      const [values] = await readTogether([picked])
      tf.dispose([input, logits, picked, ...(aux ? [aux] : [])])
      Transformer.disposeTables(tables)
      rows.forEach((i, r) => (out[i] = values[r]))
    }
    return out
  }

  dispose(): void {
    disposeParams(this.params)
    this.model.dispose()
  }
}
