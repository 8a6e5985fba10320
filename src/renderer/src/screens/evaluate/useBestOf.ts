import { useRef, useState } from 'react'
import { ApiCallError, call, runJobToEnd, useTransport } from '../../api/client'
import type { GenerateOptions, ScoredReply } from '../../../../shared/generate'
import type { JobResults } from '../../../../shared/jobs'
import type { CheckpointRef } from '../../components/models/CheckpointPicker'
import type { Generation, GenerationResult } from '../../components/models/useGeneration'

/** One sample of a best-of-n round, as the reward model scored it. */
export interface RankedSample extends ScoredReply {
  /** The generation that wrote it (its seed is the round's seed + index). */
  generation: GenerationResult
  seed: number
}

export type BestOfState =
  | { phase: 'idle' }
  | { phase: 'sampling'; sample: number; samples: number }
  | { phase: 'scoring'; samples: number }
  | {
      phase: 'done'
      /** Best first. */
      ranked: RankedSample[]
      judge: { runId: string; checkpointId: number; step: number }
    }
  | { phase: 'stopped' | 'failed'; message: string }

export interface BestOf {
  state: BestOfState
  running: boolean
  /**
   * n samples of the prompt, one after another through `generation` (so each streams into
   * the output as usual), with seeds seed, seed + 1, …; then the reward model `judge`
   * scores them and they are listed best first.
   */
  start(
    ref: CheckpointRef,
    prompt: string,
    options: GenerateOptions,
    samples: number,
    judge: CheckpointRef,
  ): Promise<void>
  stop(): void
  clear(): void
}

/** Best-of-n sampling ranked by a reward model: the playground's way to use one. */
export function useBestOf(generation: Generation): BestOf {
  const transport = useTransport()
  const [state, setState] = useState<BestOfState>({ phase: 'idle' })
  const stopped = useRef(false)
  const scoring = useRef<string | null>(null)
  const running = state.phase === 'sampling' || state.phase === 'scoring'

  return {
    state,
    running,
    async start(ref, prompt, options, samples, judge) {
      stopped.current = false
      scoring.current = null
      const written: { generation: GenerationResult; seed: number }[] = []
      for (let i = 0; i < samples; i++) {
        setState({ phase: 'sampling', sample: i + 1, samples })
        const seed = options.seed + i
        const result = await generation.start(ref, prompt, { ...options, seed })
        if (stopped.current)
          return setState({
            phase: 'stopped',
            message: `Stopped at sample ${i + 1} of ${samples}.`,
          })
        if (!result) return setState({ phase: 'failed', message: `Sample ${i + 1} failed.` })
        written.push({ generation: result, seed })
      }
      setState({ phase: 'scoring', samples })
      try {
        const job = await runJobToEnd(
          transport,
          'models.score',
          {
            runId: judge.runId,
            checkpointId: judge.checkpointId,
            prompt,
            replies: written.map((w) => w.generation.text),
            chat: options.chat,
          },
          (id) => (scoring.current = id),
        )
        if (job.state !== 'succeeded')
          return setState(
            job.state === 'cancelled'
              ? { phase: 'stopped', message: 'Stopped before the samples were ranked.' }
              : { phase: 'failed', message: job.error?.message ?? 'Scoring failed.' },
          )
        const r = job.result as JobResults['model.score']
        setState({
          phase: 'done',
          ranked: r.ranked.map((s) => ({ ...s, ...written[s.index] })),
          judge: { runId: r.runId, checkpointId: r.checkpointId, step: r.step },
        })
      } catch (err) {
        setState({
          phase: 'failed',
          message: err instanceof ApiCallError ? err.message : String(err),
        })
      }
    },
    stop() {
      stopped.current = true
      generation.stop()
      if (scoring.current) void call(transport, 'jobs.cancel', { id: scoring.current })
    },
    clear() {
      setState({ phase: 'idle' })
    },
  }
}
