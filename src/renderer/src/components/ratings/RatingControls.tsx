import { Star } from 'lucide-react'
import { useId } from 'react'
import { ratingReasons } from '../../../../shared/review'

/** 1 to 5, as radio buttons (arrow keys move, like any radio group). */
export function RatingInput({
  value,
  onChange,
  label = 'Rating',
}: {
  value: number | null
  onChange: (score: number) => void
  label?: string
}) {
  const name = useId()
  return (
    <div className="rating-input" role="radiogroup" aria-label={label}>
      {[1, 2, 3, 4, 5].map((n) => (
        <label key={n} title={`${n} of 5`}>
          <input
            type="radio"
            name={name}
            value={n}
            checked={value === n}
            onChange={() => onChange(n)}
            aria-label={`${n} of 5`}
          />
          <Star
            size={18}
            aria-hidden
            fill={value !== null && n <= value ? 'currentColor' : 'none'}
          />
        </label>
      ))}
    </div>
  )
}

/** Why: a few common reasons, toggled. */
export function ReasonChips({
  value,
  onChange,
}: {
  value: string[]
  onChange: (reasons: string[]) => void
}) {
  return (
    <div className="label-chips" role="group" aria-label="Reasons">
      {ratingReasons.map((r) => {
        const on = value.includes(r)
        return (
          <button
            key={r}
            type="button"
            className="label-chip"
            aria-pressed={on}
            style={{ '--label-color': 'var(--accent)' } as React.CSSProperties}
            onClick={() => onChange(on ? value.filter((x) => x !== r) : [...value, r])}
          >
            {r}
          </button>
        )
      })}
    </div>
  )
}

/** A, a tie, or B: the pairwise preference of two outputs for one prompt. */
export function PreferenceInput({
  value,
  onChange,
}: {
  value: 'a' | 'b' | 'tie' | null
  onChange: (choice: 'a' | 'b' | 'tie') => void
}) {
  const name = useId()
  const options = [
    { v: 'a', text: 'A is better' },
    { v: 'tie', text: 'Tie' },
    { v: 'b', text: 'B is better' },
  ] as const
  return (
    <div className="segmented" role="radiogroup" aria-label="Which is better">
      {options.map((o) => (
        <label key={o.v}>
          <input type="radio" name={name} checked={value === o.v} onChange={() => onChange(o.v)} />
          {o.text}
        </label>
      ))}
    </div>
  )
}
