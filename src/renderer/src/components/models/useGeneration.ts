import { useRef, useState } from 'react'
import { ApiCallError, call, useEvent, useTransport } from '../../api/client'
import type { GenerateOptions } from '../../../../shared/generate'
import type { JobRecord, JobResults } from '../../../../shared/jobs'
import { useJob } from '../../api/jobs'
import type { CheckpointRef } from './CheckpointPicker'

export type GenerationResult = JobResults['model.generate']

export interface Generation {
  /** The text so far: streamed pieces while running, the job's whole text once done. */
  text: string
  running: boolean
  tokens: number
  tokensPerSecond: number | null
  result: GenerationResult | null
  error: string | null
  /** Resolves when the generation ends: its result, or null when it failed or never started. */
  start(
    ref: CheckpointRef,
    prompt: string,
    options: GenerateOptions,
  ): Promise<GenerationResult | null>
  stop(): void
  clear(): void
}

/**
 * One generation in a worker, its text streamed from `job.output` events, its progress
 * and end followed with useJob. Pieces that arrive before the job's id is known (a fast
 * worker) are kept and claimed once it is.
 */
export function useGeneration(): Generation {
  const transport = useTransport()
  const [text, setText] = useState('')
  const [running, setRunning] = useState(false)
  const [tokens, setTokens] = useState(0)
  const [tokensPerSecond, setTokensPerSecond] = useState<number | null>(null)
  const [result, setResult] = useState<GenerationResult | null>(null)
  const [error, setError] = useState<string | null>(null)
  const early = useRef(new Map<string, string[]>())
  // The job: in a ref for the output stream's handler, in state for useJob.
  const current = useRef<string | null>(null)
  const [jobId, setJobId] = useState<string | null>(null)
  const settle = useRef<((r: GenerationResult | null) => void) | null>(null)
  const ended = (r: GenerationResult | null) => {
    settle.current?.(r)
    settle.current = null
  }

  const finish = (job: JobRecord) => {
    setRunning(false)
    if (job.state === 'succeeded') {
      const r = job.result as GenerationResult
      setResult(r)
      setText(r.text)
      setTokens(r.tokens)
      setTokensPerSecond(r.tokensPerSecond)
      ended(r)
    } else {
      if (job.state === 'failed') setError(job.error?.message ?? 'Generation failed.')
      ended(null)
    }
  }
  useEvent('job.output', (o) => {
    if (o.kind !== 'model.generate') return
    if (o.id === current.current) setText((t) => t + o.text)
    else if (current.current === null) {
      const list = early.current.get(o.id) ?? []
      list[o.seq] = o.text
      early.current.set(o.id, list)
    }
  })
  useJob(jobId, {
    onEnd: finish,
    onProgress: (p) => {
      setTokens(p.done)
      setTokensPerSecond(p.metrics?.tokensPerSecond ?? null)
    },
  })

  return {
    text,
    running,
    tokens,
    tokensPerSecond,
    result,
    error,
    async start(ref, prompt, options) {
      ended(null)
      const done = new Promise<GenerationResult | null>((resolve) => (settle.current = resolve))
      setText('')
      setTokens(0)
      setTokensPerSecond(null)
      setResult(null)
      setError(null)
      setRunning(true)
      current.current = null
      setJobId(null)
      early.current.clear()
      try {
        const job = await call(transport, 'models.generate', {
          runId: ref.runId,
          checkpointId: ref.checkpointId,
          prompt,
          options,
        })
        current.current = job.id
        setJobId(job.id)
        setText((early.current.get(job.id) ?? []).join(''))
        early.current.clear()
      } catch (err) {
        setRunning(false)
        setError(err instanceof ApiCallError ? err.message : String(err))
        ended(null)
      }
      return done
    },
    stop() {
      if (current.current) void call(transport, 'jobs.cancel', { id: current.current })
    },
    clear() {
      setText('')
      setResult(null)
      setError(null)
      setTokens(0)
      setTokensPerSecond(null)
    },
  }
}
