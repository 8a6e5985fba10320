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

/** Prompt a checkpoint, watch the text arrive, rate what it wrote. */
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
    setScore(null)
    setReasons([])
    void generation.start(ref, prompt, checked.options)
  }
  const result = generation.result
  const rate = async () => {
    if (!result || score === null) return
    const runName = runs?.find((r) => r.id === result.runId)?.name ?? result.runId
    try {
      await call(transport, 'ratings.rate', {
        prompt,
        output: result.text || '(empty)',
        score,
        reasons,
        source: outputSource(runName, result, { ...options, stop: stops }),
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
        </div>
        <div className="stack">
          <PromptForm
            prompt={prompt}
            onPrompt={setPrompt}
            placeholder="The text the model continues"
            running={generation.running}
            onGenerate={run}
            onStop={() => generation.stop()}
          />
          {problem && <Notice tone="error">{problem}</Notice>}
          <GenerationOutput prompt={prompt} generation={generation} label="Generated text" />
          {result && (
            <div className="rate-output" role="group" aria-label="Rate this output">
              <RatingInput value={score} onChange={setScore} label="Rate this output" />
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
