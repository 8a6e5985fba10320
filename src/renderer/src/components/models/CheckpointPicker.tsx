import { useId } from 'react'
import { useApiQuery } from '../../api/client'
import { formatCount } from '../../format'

/** A run and one of its checkpoints (null: the newest). */
export interface CheckpointRef {
  runId: string
  checkpointId: number | null
}

/**
 * Choose a run that has checkpoints, then one of them (the newest by default). Runs
 * without a checkpoint are listed but cannot be chosen, with the reason.
 */
export function CheckpointPicker({
  label,
  value,
  onChange,
}: {
  label: string
  value: CheckpointRef | null
  onChange: (ref: CheckpointRef) => void
}) {
  const runId = useId()
  const checkpointId = useId()
  const { data: runs } = useApiQuery('runs.list', {})
  const { data: run } = useApiQuery(
    'runs.get',
    { id: value?.runId ?? '' },
    { enabled: value !== null && value.runId !== '' },
  )
  const newest = run?.checkpoints.at(-1)
  return (
    <fieldset className="checkpoint-picker">
      <legend>{label}</legend>
      <div className="field">
        <label htmlFor={runId}>Run</label>
        <select
          id={runId}
          className="select"
          value={value?.runId ?? ''}
          onChange={(e) => onChange({ runId: e.target.value, checkpointId: null })}
        >
          <option value="" disabled>
            {runs && runs.length === 0 ? 'No runs yet' : 'Choose a run'}
          </option>
          {runs?.map((r) => (
            <option key={r.id} value={r.id} disabled={r.checkpointCount === 0}>
              {r.name}
              {r.checkpointCount === 0 ? ' (no checkpoint yet)' : ''}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={checkpointId}>Checkpoint</label>
        <select
          id={checkpointId}
          className="select"
          disabled={!run}
          value={value?.checkpointId ?? ''}
          onChange={(e) =>
            value &&
            onChange({
              runId: value.runId,
              checkpointId: e.target.value === '' ? null : Number(e.target.value),
            })
          }
        >
          <option value="">Newest{newest ? ` (step ${formatCount(newest.step)})` : ''}</option>
          {[...(run?.checkpoints ?? [])].reverse().map((c) => (
            <option key={c.id} value={c.id}>
              step {formatCount(c.step)}
              {c.valLoss !== null ? ` · val. loss ${c.valLoss.toFixed(3)}` : ''}
            </option>
          ))}
        </select>
      </div>
    </fieldset>
  )
}

/** The first run with a checkpoint (a sensible default for a picker). */
export function useFirstCheckpoint(skip = 0): CheckpointRef | null {
  const { data: runs } = useApiQuery('runs.list', {})
  const ready = runs?.filter((r) => r.checkpointCount > 0) ?? []
  const run = ready[Math.min(skip, ready.length - 1)]
  return run ? { runId: run.id, checkpointId: null } : null
}
