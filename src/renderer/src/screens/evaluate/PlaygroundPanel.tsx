import { useQueryClient } from '@tanstack/react-query'
import { Save } from 'lucide-react'
import { useState } from 'react'
import { ApiCallError, call, useApiQuery, useTransport } from '../../api/client'
import { Button } from '../../components/Button'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import {
  CheckpointPicker,
  useFirstCheckpoint,
  type CheckpointRef,
} from '../../components/models/CheckpointPicker'
import { GenerationOutput } from '../../components/models/GenerationOutput'
import { PromptForm } from '../../components/models/PromptForm'
import {
  checkOptions,
  defaultGenerateOptions,
  GenerationSettings,
} from '../../components/models/GenerationSettings'
import { useGeneration, type GenerationResult } from '../../components/models/useGeneration'
import { RatingInput, ReasonChips } from '../../components/ratings/RatingControls'
import { BestOfResults, BestOfSettings, MAX_BEST_OF } from './BestOfPanel'
import { useBestOf } from './useBestOf'

/** Where an output came from, as the ratings store records it. */
export function outputSource(
  runName: string,
  r: GenerationResult,
  options: Record<string, unknown>,
) {
  return {
    runId: r.runId,
    checkpointId: r.checkpointId,
    label: `${runName} @ step ${r.step}`,
    settings: options,
  }
}

/**
 * Prompt a checkpoint, watch the text arrive, rate what it wrote; or draw several samples
 * and let a reward model rank them (best-of-n), and rate the best.
 */
export function PlaygroundPanel() {
  const transport = useTransport()
  const client = useQueryClient()
  const fallback = useFirstCheckpoint()
  const [chosen, setChosen] = useState<CheckpointRef | null>(null)
  const ref = chosen ?? fallback
  const { data: runs } = useApiQuery('runs.list', {})
  const [prompt, setPrompt] = useState('')
  const [options, setOptions] = useState(defaultGenerateOptions)
  const [stops, setStops] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const generation = useGeneration()
  const bestOf = useBestOf(generation)
  const [samples, setSamples] = useState(1)
  const [judge, setJudge] = useState('')
  const [score, setScore] = useState<number | null>(null)
  const [reasons, setReasons] = useState<string[]>([])
  const [saved, setSaved] = useState<{ tone: 'success' | 'error'; text: string } | null>(null)

  const run = () => {
    setProblem(null)
    setSaved(null)
    if (!ref) return setProblem('Choose a run with a checkpoint.')
    if (!prompt.trim()) return setProblem('Write a prompt.')
    const checked = checkOptions(options, stops)
    if (!checked.ok) return setProblem(checked.message)
    if (!Number.isInteger(samples) || samples < 1 || samples > MAX_BEST_OF)
      return setProblem(`Samples: a whole number from 1 to ${MAX_BEST_OF}.`)
    if (samples > 1 && !judge)
      return setProblem('Choose a reward model to rank the samples with, or draw one sample.')
    setScore(null)
    setReasons([])
    bestOf.clear()
    if (samples === 1) void generation.start(ref, prompt, checked.options)
    else
      void bestOf.start(ref, prompt, checked.options, samples, { runId: judge, checkpointId: null })
  }
  const ranked = bestOf.state.phase === 'done' ? bestOf.state.ranked : null
  // What the rating is about: the best sample of a ranked round, else the one generation.
  const rated = ranked
    ? { result: ranked[0].generation, settings: { ...options, seed: ranked[0].seed } }
    : generation.result && !bestOf.running
      ? { result: generation.result, settings: options }
      : null
  const runName = (id: string) => runs?.find((r) => r.id === id)?.name ?? id
  const rate = async () => {
    if (!rated || score === null) return
    const { result } = rated
    try {
      await call(transport, 'ratings.rate', {
        prompt,
        output: result.text || '(empty)',
        score,
        reasons,
        source: outputSource(runName(result.runId), result, { ...rated.settings, stop: stops }),
      })
      setSaved({ tone: 'success', text: 'Rating saved in the project.' })
      await client.invalidateQueries({ queryKey: ['ratings.list'] })
    } catch (err) {
      setSaved({ tone: 'error', text: err instanceof ApiCallError ? err.message : String(err) })
    }
  }

  return (
    <Panel
      title="Playground"
      description="Generate from a checkpoint with your own sampling settings. Tokens stream in as the model writes them; a key/value cache keeps each new token's cost flat."
    >
      <div className="playground">
        <div className="stack">
          <CheckpointPicker label="Model" value={ref} onChange={setChosen} />
          <GenerationSettings
            value={options}
            stops={stops}
            onChange={setOptions}
            onStops={setStops}
          />
          <BestOfSettings
            samples={samples}
            judge={judge}
            onSamples={setSamples}
            onJudge={setJudge}
          />
        </div>
        <div className="stack">
          <PromptForm
            prompt={prompt}
            onPrompt={setPrompt}
            placeholder="The text the model continues"
            running={generation.running || bestOf.running}
            onGenerate={run}
            onStop={() => (bestOf.running ? bestOf.stop() : generation.stop())}
          />
          {problem && <Notice tone="error">{problem}</Notice>}
          <GenerationOutput prompt={prompt} generation={generation} label="Generated text" />
          <BestOfResults state={bestOf.state} judgeName={runName(judge)} />
          {rated && (
            <div className="rate-output" role="group" aria-label="Rate this output">
              <RatingInput
                value={score}
                onChange={setScore}
                label={ranked ? 'Rate the best sample' : 'Rate this output'}
              />
              <ReasonChips value={reasons} onChange={setReasons} />
              <Button
                size="small"
                icon={<Save size={13} />}
                disabled={score === null}
                onClick={() => void rate()}
              >
                Save rating
              </Button>
            </div>
          )}
          {saved && <Notice tone={saved.tone}>{saved.text}</Notice>}
        </div>
      </div>
    </Panel>
  )
}
