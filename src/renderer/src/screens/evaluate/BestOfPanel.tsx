import { useId } from 'react'
import { useApiQuery } from '../../api/client'
import type { BestOfState } from './useBestOf'

/** Samples a best-of-n round draws at most (each is a whole generation). */
export const MAX_BEST_OF = 8

/**
 * How many samples to draw and the reward model that ranks them (runs trained with the
 * kind "A reward model"). One sample is plain generation.
 */
export function BestOfSettings({
  samples,
  judge,
  onSamples,
  onJudge,
}: {
  samples: number
  judge: string
  onSamples: (n: number) => void
  onJudge: (runId: string) => void
}) {
  const samplesId = useId()
  const judgeId = useId()
  const { data: runs } = useApiQuery('runs.list', {})
  const judges = (runs ?? []).filter((r) => r.kind === 'reward')
  return (
    <fieldset className="checkpoint-picker">
      <legend>Best of n</legend>
      <div className="field">
        <label
          htmlFor={samplesId}
          title="Draw this many samples (seeds seed, seed + 1, …) and rank them with a reward model. 1: one plain generation."
        >
          Samples
        </label>
        <input
          id={samplesId}
          className="input"
          type="number"
          min={1}
          max={MAX_BEST_OF}
          step={1}
          value={Number.isFinite(samples) ? samples : ''}
          onChange={(e) => onSamples(e.target.valueAsNumber)}
        />
      </div>
      <div className="field">
        <label htmlFor={judgeId}>Rank with</label>
        <select
          id={judgeId}
          className="select"
          value={judge}
          disabled={judges.length === 0}
          onChange={(e) => onJudge(e.target.value)}
        >
          <option value="" disabled>
            {judges.length === 0 ? 'No reward model yet' : 'Choose a reward model'}
          </option>
          {judges.map((r) => (
            <option key={r.id} value={r.id} disabled={r.checkpointCount === 0}>
              {r.name}
              {r.checkpointCount === 0 ? ' (no checkpoint yet)' : ''}
            </option>
          ))}
        </select>
        {judges.length === 0 && (
          <p className="small muted">
            Train one in Train → New run with “What it learns”: A reward model.
          </p>
        )}
      </div>
    </fieldset>
  )
}

/** Where a best-of-n round is, and its samples best first once ranked. */
export function BestOfResults({ state, judgeName }: { state: BestOfState; judgeName: string }) {
  switch (state.phase) {
    case 'idle':
      return null
    case 'sampling':
      return (
        <p className="small muted" aria-live="polite">
          Sample {state.sample} of {state.samples}…
        </p>
      )
    case 'scoring':
      return (
        <p className="small muted" aria-live="polite">
          Ranking {state.samples} samples with {judgeName}…
        </p>
      )
    case 'stopped':
    case 'failed':
      return (
        <p className={state.phase === 'failed' ? 'small error-text' : 'small muted'}>
          {state.message}
        </p>
      )
    case 'done':
      return (
        <div className="stack" style={{ gap: 6 }}>
          <p className="small muted">
            Ranked by {judgeName} (step {state.judge.step}): only the differences between scores
            mean anything.
          </p>
          <ol className="ranked-samples" aria-label="Samples, best first">
            {state.ranked.map((s, i) => (
              <li key={s.index} data-score={s.score}>
                <div className="ranked-sample-head small">
                  <strong>{i === 0 ? 'Best' : `#${i + 1}`}</strong>
                  <span>score {s.score.toFixed(3)}</span>
                  <span className="muted">
                    seed {s.seed} · {s.generation.tokens} tokens
                  </span>
                </div>
                <div className="ranked-sample-text">{s.reply || '(empty)'}</div>
              </li>
            ))}
          </ol>
        </div>
      )
  }
}
