import { useId } from 'react'

/** One of a few choices, as a row of segments (radio buttons under the hood). */
export function Segmented<T extends string>({
  label,
  choices,
  value,
  onChange,
}: {
  /** The group's name, read by screen readers. */
  label: string
  choices: readonly { v: T; text: string }[]
  value: T
  onChange: (v: T) => void
}) {
  const name = useId()
  return (
    <div className="segmented" role="radiogroup" aria-label={label}>
      {choices.map((c) => (
        <label key={c.v}>
          <input type="radio" name={name} checked={value === c.v} onChange={() => onChange(c.v)} />
          {c.text}
        </label>
      ))}
    </div>
  )
}
