import { Pause, Play, Square } from 'lucide-react'
import { useQueryClient } from '@tanstack/react-query'
import { useApiMutation } from '../../api/client'
import { Button } from '../../components/Button'
import type { RunListItem } from '../../../../shared/runs'
import { resumable } from './RunStatus'

/** Start or resume, pause, stop: whatever the run's state allows. */
export function RunControls({
  run,
  size = 'normal',
  onError,
}: {
  run: RunListItem
  size?: 'normal' | 'small'
  onError: (message: string) => void
}) {
  const client = useQueryClient()
  const options = {
    onSuccess: () => void client.invalidateQueries({ queryKey: ['runs.list'] }),
    onError: (err: { message: string }) => onError(err.message),
  }
  const start = useApiMutation('runs.start', options)
  const pause = useApiMutation('runs.pause', options)
  const stop = useApiMutation('runs.stop', options)
  const running = run.jobId !== null
  return (
    <div className="row" style={{ flexWrap: 'nowrap' }}>
      {!running && resumable(run.status) && (
        <Button
          size={size}
          variant="primary"
          icon={<Play size={13} />}
          onClick={() => start.mutate({ id: run.id })}
          aria-label={`${run.status === 'created' ? 'Start' : 'Resume'} ${run.name}`}
        >
          {run.status === 'created' ? 'Start' : 'Resume'}
        </Button>
      )}
      {running && (
        <>
          <Button
            size={size}
            icon={<Pause size={13} />}
            onClick={() => pause.mutate({ id: run.id })}
            aria-label={`Pause ${run.name}`}
          >
            Pause
          </Button>
          <Button
            size={size}
            variant="danger"
            icon={<Square size={13} />}
            onClick={() => stop.mutate({ id: run.id })}
            aria-label={`Stop ${run.name}`}
          >
            Stop
          </Button>
        </>
      )}
    </div>
  )
}
