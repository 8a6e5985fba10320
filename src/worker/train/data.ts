import { Rng, type RngState } from '../model/rng'

/** Token ids for training and validation; typed arrays, so 100M tokens fit easily. */
export interface TokenData {
  train: Uint16Array | Int32Array
  val: Uint16Array | Int32Array
  vocabSize: number
}

export interface Batch {
  /** (B·T) inputs and the next-token targets, row-major by sequence. */
  inputs: Int32Array
  targets: Int32Array
  B: number
  T: number
}

/**
 * nanoGPT-style sampling: each sequence is a window of T+1 tokens at a uniformly random
 * offset. The sampler's only state is its RNG, so the data cursor checkpoints as four
 * words and a resumed run draws exactly the batches the uninterrupted one would.
 */
export class BatchSampler {
  private readonly rng: Rng

  constructor(
    private readonly tokens: Uint16Array | Int32Array,
    private readonly B: number,
    private readonly T: number,
    seed: number | RngState,
  ) {
    if (tokens.length < T + 2) {
      throw new Error(
        `Too little data: ${tokens.length} tokens cannot fill one sequence of ${T + 1}.`,
      )
    }
    this.rng = new Rng(seed)
  }

  /** B sequences of T tokens (by default the sizes it was made with; T may be shorter). */
  next(B = this.B, T = this.T): Batch {
    const inputs = new Int32Array(B * T)
    const targets = new Int32Array(B * T)
    const span = this.tokens.length - T - 1
    for (let b = 0; b < B; b++) {
      const start = this.rng.int(span + 1)
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = this.tokens[start + t]!
        targets[b * T + t] = this.tokens[start + t + 1]!
      }
    }
    return { inputs, targets, B, T }
  }

  state(): RngState {
    return this.rng.state()
  }
}
