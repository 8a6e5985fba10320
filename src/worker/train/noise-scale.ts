/**
 * The gradient noise scale B_simple = tr(Σ) / |G|² (McCandlish et al. 2018, "An Empirical
 * Model of Large-Batch Training"): the batch size beyond which a bigger batch stops
 * buying proportionally fewer steps. Estimated each step from the same gradients training
 * uses: the micro-batch gradients gᵢ (b sequences each) and their mean ḡ (k·b sequences):
 *   |G|²  ≈ (B_big·|ḡ|² − b·mean|gᵢ|²) / (B_big − b)
 *   tr(Σ) ≈ (mean|gᵢ|² − |ḡ|²) / (1/b − 1/B_big)
 * Both are noisy, so each is smoothed (EMA) before their ratio is taken, as the paper does.
 */

export interface NoiseScaleState {
  /** Smoothed |G|² and tr(Σ) estimates; null before the first step. */
  gradSq: number | null
  trace: number | null
  /** Micro-batches per optimizer step now. */
  accumulation: number
}

/** EMA of the two estimates. */
const SMOOTHING = 0.95

export class NoiseScale {
  readonly state: NoiseScaleState

  constructor(
    private readonly minAccumulation: number,
    private readonly maxAccumulation: number,
    state?: NoiseScaleState,
  ) {
    this.state = state ? { ...state } : { gradSq: null, trace: null, accumulation: minAccumulation }
  }

  /**
   * Fold in one step: |gᵢ|² of each of its k ≥ 2 micro-batches of b sequences, and |ḡ|² of
   * their mean (all unscaled). Returns nothing; read `value` and `accumulation`.
   */
  observe(microSq: readonly number[], meanSq: number, b: number): void {
    const k = microSq.length
    if (k < 2 || !Number.isFinite(meanSq) || microSq.some((x) => !Number.isFinite(x))) return
    const small = microSq.reduce((a, x) => a + x, 0) / k
    const big = k * b
    const gradSq = (big * meanSq - b * small) / (big - b)
    const trace = (small - meanSq) / (1 / b - 1 / big)
    const s = this.state
    s.gradSq = s.gradSq === null ? gradSq : SMOOTHING * s.gradSq + (1 - SMOOTHING) * gradSq
    s.trace = s.trace === null ? trace : SMOOTHING * s.trace + (1 - SMOOTHING) * trace
    const bNoise = this.value
    if (bNoise === null) return
    // Micro-batches for an effective batch near B_noise, at most doubling or halving per step.
    const target = Math.ceil(bNoise / b)
    s.accumulation = Math.min(
      this.maxAccumulation,
      Math.max(this.minAccumulation, s.accumulation / 2, Math.min(target, s.accumulation * 2)),
    )
    s.accumulation = Math.round(s.accumulation)
  }

  /** B_simple in sequences; null until both estimates are positive. */
  get value(): number | null {
    const { gradSq, trace } = this.state
    if (gradSq === null || trace === null || gradSq <= 0 || trace <= 0) return null
    return trace / gradSq
  }

  get accumulation(): number {
    return this.state.accumulation
  }
}
