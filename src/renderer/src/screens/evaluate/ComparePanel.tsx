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
import { useGeneration } from '../../components/models/useGeneration'
import { PreferenceInput, RatingInput } from '../../components/ratings/RatingControls'
import { outputSource } from './PlaygroundPanel'

/**
 * The same prompt and settings through two checkpoints at once, side by side; the user
 * picks the better one (or a tie) and may rate each. The pair's running win rate is shown.
 */
export function ComparePanel() {
  const transport = useTransport()
  const client = useQueryClient()
  const firstA = useFirstCheckpoint(0)
  const firstB = useFirstCheckpoint(1)
  const [chosenA, setA] = useState<CheckpointRef | null>(null)
  const [chosenB, setB] = useState<CheckpointRef | null>(null)
  const refA = chosenA ?? firstA
  const refB = chosenB ?? firstB
  const { data: runs } = useApiQuery('runs.list', {})
  const [prompt, setPrompt] = useState('')
  const [options, setOptions] = useState(defaultGenerateOptions)
  const [stops, setStops] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const a = useGeneration()
  const b = useGeneration()
  const [choice, setChoice] = useState<'a' | 'b' | 'tie' | null>(null)
  const [scoreA, setScoreA] = useState<number | null>(null)
  const [scoreB, setScoreB] = useState<number | null>(null)
  const [saved, setSaved] = useState<{ tone: 'success' | 'error'; text: string } | null>(null)
  const running = a.running || b.running

  const sourceOf = (r: NonNullable<typeof a.result>) =>
    outputSource(runs?.find((x) => x.id === r.runId)?.name ?? r.runId, r, {
      ...options,
      stop: stops,
    })
  const labelA = a.result ? sourceOf(a.result).label : null
  const labelB = b.result ? sourceOf(b.result).label : null
  const { data: wins } = useApiQuery(
    'ratings.winRate',
    { a: labelA ?? '', b: labelB ?? '' },
    { enabled: labelA !== null && labelB !== null },
  )

  const start = () => {
    setProblem(null)
    setSaved(null)
    if (!refA || !refB) return setProblem('Choose two checkpoints.')
    if (!prompt.trim()) return setProblem('Write a prompt.')
    const checked = checkOptions(options, stops)
    if (!checked.ok) return setProblem(checked.message)
    setChoice(null)
    setScoreA(null)
    setScoreB(null)
    void a.start(refA, prompt, checked.options)
    void b.start(refB, prompt, checked.options)
  }
  const save = async () => {
    if (!a.result || !b.result || choice === null) return
    const sourceA = sourceOf(a.result)
    const sourceB = sourceOf(b.result)
    try {
      await call(transport, 'ratings.prefer', {
        prompt,
        outputA: a.result.text || '(empty)',
        outputB: b.result.text || '(empty)',
        sourceA,
        sourceB,
        choice,
      })
      for (const [score, r, source] of [
        [scoreA, a.result, sourceA],
        [scoreB, b.result, sourceB],
      ] as const)
        if (score !== null)
          await call(transport, 'ratings.rate', {
            prompt,
            output: r.text || '(empty)',
            score,
            source,
          })
      setSaved({ tone: 'success', text: 'Preference saved in the project.' })
      await client.invalidateQueries({ queryKey: ['ratings.list'] })
      await client.invalidateQueries({ queryKey: ['ratings.winRate'] })
    } catch (err) {
      setSaved({ tone: 'error', text: err instanceof ApiCallError ? err.message : String(err) })
    }
  }

  const total = wins ? wins.a + wins.b + wins.ties : 0
  return (
    <Panel
      title="A/B comparison"
      description="One prompt through two checkpoints with the same settings and seed. Pick the better answer: preferences are stored for evaluation and preference training."
    >
      <div className="stack">
        <div className="compare-pickers">
          <CheckpointPicker label="Model A" value={refA} onChange={setA} />
          <CheckpointPicker label="Model B" value={refB} onChange={setB} />
        </div>
        <GenerationSettings
          value={options}
          stops={stops}
          onChange={setOptions}
          onStops={setStops}
        />
        <PromptForm
          prompt={prompt}
          onPrompt={setPrompt}
          rows={3}
          generateLabel="Generate both"
          running={running}
          onGenerate={start}
          onStop={() => {
            a.stop()
            b.stop()
          }}
        />
        {problem && <Notice tone="error">{problem}</Notice>}
        <div className="compare-outputs">
          {(
            [
              ['A', a, labelA, scoreA, setScoreA],
              ['B', b, labelB, scoreB, setScoreB],
            ] as const
          ).map(([side, g, label, score, setScore]) => (
            <div key={side} className="stack" style={{ gap: 6 }}>
              <h3 className="compare-side">
                {side}
                {label && <span className="muted small"> · {label}</span>}
              </h3>
              <GenerationOutput prompt={prompt} generation={g} label={`Output ${side}`} />
              {g.result && (
                <RatingInput value={score} onChange={setScore} label={`Rate output ${side}`} />
              )}
            </div>
          ))}
        </div>
        {a.result && b.result && (
          <div className="row" style={{ flexWrap: 'wrap' }}>
            <PreferenceInput value={choice} onChange={setChoice} />
            <Button
              icon={<Save size={14} />}
              disabled={choice === null}
              onClick={() => void save()}
            >
              Save preference
            </Button>
          </div>
        )}
        {saved && <Notice tone={saved.tone}>{saved.text}</Notice>}
        {wins && labelA && labelB && (
          <p className="small" aria-label="Win rate">
            {total === 0
              ? `No preferences recorded between ${labelA} and ${labelB} yet.`
              : `${labelA} won ${wins.a} of ${total} (${Math.round((100 * wins.a) / total)}%), ${labelB} won ${wins.b}, ${wins.ties} ${wins.ties === 1 ? 'tie' : 'ties'}.`}
          </p>
        )}
      </div>
    </Panel>
  )
}
