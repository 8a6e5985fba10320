import { useQueryClient } from '@tanstack/react-query'
import { Download, Trash2 } from 'lucide-react'
import { useId, useState, type FormEvent } from 'react'
import { ApiCallError, call, useApiQuery, useTransport } from '../../api/client'
import { Button } from '../../components/Button'
import { PathDialog } from '../../components/forms/PathDialog'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import { PreferenceInput, RatingInput, ReasonChips } from '../../components/ratings/RatingControls'
import { formatCount, formatRelative } from '../../format'

const message = (err: unknown) => (err instanceof ApiCallError ? err.message : String(err))
const source = (label: string) => (label.trim() ? { label: label.trim() } : null)

/**
 * Ratings (1-5) and pairwise preferences of model outputs, stored in the project for
 * evaluation and preference training. Outputs can come from anywhere: pasted here, or
 * (with checkpoints) from the playground and the A/B view.
 */
export function RatingsPanel() {
  const client = useQueryClient()
  const { data } = useApiQuery('ratings.list', {})
  const [exporting, setExporting] = useState<'ratings' | 'preferences' | 'pairs' | null>(null)
  const transport = useTransport()
  const refresh = async () => {
    await client.invalidateQueries({ queryKey: ['ratings.list'] })
    await client.invalidateQueries({ queryKey: ['ratings.winRate'] })
  }
  return (
    <>
      <Panel
        title="Rate an output"
        description="A prompt, what a model answered, and your rating from 1 to 5 with the reasons."
      >
        <RateForm onSaved={refresh} />
      </Panel>
      <Panel
        title="Compare two outputs"
        description="Two answers to one prompt and which is better: a preference pair for DPO-style training."
      >
        <PreferForm onSaved={refresh} />
      </Panel>
      <Panel
        title="Recorded"
        description={
          data
            ? `${formatCount(data.ratings.total)} ratings and ${formatCount(data.preferences.total)} preferences in this project.`
            : 'Loading…'
        }
        actions={
          <div className="row" style={{ gap: 6 }}>
            {(['ratings', 'preferences', 'pairs'] as const).map((k) => (
              <Button
                key={k}
                size="small"
                icon={<Download size={13} />}
                onClick={() => setExporting(k)}
              >
                {k === 'pairs' ? 'Training pairs…' : k === 'ratings' ? 'Ratings…' : 'Preferences…'}
              </Button>
            ))}
          </div>
        }
      >
        {data && (data.ratings.total > 0 || data.preferences.total > 0) ? (
          <table className="table" aria-label="Ratings and preferences">
            <thead>
              <tr>
                <th>When</th>
                <th>Prompt</th>
                <th>Verdict</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {[
                ...data.ratings.items.map((r) => ({
                  key: `r${r.id}`,
                  kind: 'rating' as const,
                  id: r.id,
                  at: r.createdAt,
                  prompt: r.prompt,
                  verdict: `${'★'.repeat(r.score)}${'☆'.repeat(5 - r.score)}${r.reasons.length ? ` · ${r.reasons.join(', ')}` : ''}${r.source?.label ? ` · ${r.source.label}` : ''}`,
                })),
                ...data.preferences.items.map((p) => ({
                  key: `p${p.id}`,
                  kind: 'preference' as const,
                  id: p.id,
                  at: p.createdAt,
                  prompt: p.prompt,
                  verdict:
                    p.choice === 'tie'
                      ? `tie${p.sourceA?.label && p.sourceB?.label ? ` · ${p.sourceA.label} vs ${p.sourceB.label}` : ''}`
                      : `${p.choice === 'a' ? (p.sourceA?.label ?? 'A') : (p.sourceB?.label ?? 'B')} preferred${p.sourceA?.label && p.sourceB?.label ? ` over ${p.choice === 'a' ? p.sourceB.label : p.sourceA.label}` : ''}`,
                })),
              ]
                .sort((a, b) => b.at.localeCompare(a.at))
                .slice(0, 50)
                .map((row) => (
                  <tr key={row.key}>
                    <td className="small muted">{formatRelative(row.at)}</td>
                    <td className="truncate" style={{ maxWidth: 360 }}>
                      {row.prompt}
                    </td>
                    <td className="small">{row.verdict}</td>
                    <td style={{ textAlign: 'right' }}>
                      <Button
                        size="small"
                        variant="ghost"
                        aria-label={`Delete this ${row.kind}`}
                        icon={<Trash2 size={13} />}
                        onClick={() =>
                          void call(transport, 'ratings.delete', {
                            kind: row.kind,
                            id: row.id,
                          }).then(refresh)
                        }
                      />
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        ) : (
          <p className="small muted">Nothing rated yet.</p>
        )}
      </Panel>
      <PathDialog
        open={exporting !== null}
        title={
          exporting === 'pairs'
            ? 'Export preference pairs for training'
            : `Export ${exporting ?? ''}`
        }
        purpose="exportData"
        label="JSON Lines file"
        hint={
          exporting === 'pairs'
            ? 'One {prompt, chosen, rejected} object per line; ties are left out.'
            : 'One object per line, as recorded. Existing files are not overwritten.'
        }
        confirmLabel="Export"
        onClose={() => setExporting(null)}
        onSubmit={(out) => call(transport, 'ratings.export', { kind: exporting!, out })}
      />
    </>
  )
}

function RateForm({ onSaved }: { onSaved: () => Promise<void> }) {
  const transport = useTransport()
  const [prompt, setPrompt] = useState('')
  const [output, setOutput] = useState('')
  const [label, setLabel] = useState('')
  const [score, setScore] = useState<number | null>(null)
  const [reasons, setReasons] = useState<string[]>([])
  const [status, setStatus] = useState<{ tone: 'error' | 'success'; text: string } | null>(null)
  const id = useId()
  const save = async (e: FormEvent) => {
    e.preventDefault()
    if (score === null) return
    try {
      await call(transport, 'ratings.rate', {
        prompt,
        output,
        score,
        reasons,
        source: source(label),
      })
      setOutput('')
      setScore(null)
      setReasons([])
      setStatus({ tone: 'success', text: 'Rating saved.' })
      await onSaved()
    } catch (err) {
      setStatus({ tone: 'error', text: message(err) })
    }
  }
  return (
    <form className="stack" onSubmit={(e) => void save(e)}>
      <div className="field">
        <label htmlFor={`${id}-p`}>Prompt</label>
        <textarea
          id={`${id}-p`}
          className="input"
          rows={2}
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-o`}>Output</label>
        <textarea
          id={`${id}-o`}
          className="input"
          rows={3}
          value={output}
          onChange={(e) => setOutput(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-s`}>Model (optional)</label>
        <input
          id={`${id}-s`}
          className="input"
          placeholder="e.g. tiny-moe@step-2000"
          value={label}
          onChange={(e) => setLabel(e.target.value)}
        />
      </div>
      <div className="row" style={{ gap: 12, alignItems: 'center' }}>
        <RatingInput value={score} onChange={setScore} />
        <ReasonChips value={reasons} onChange={setReasons} />
      </div>
      {status && <Notice tone={status.tone}>{status.text}</Notice>}
      <div className="row" style={{ justifyContent: 'flex-end' }}>
        <Button
          type="submit"
          variant="primary"
          disabled={score === null || !prompt.trim() || !output.trim()}
        >
          Save rating
        </Button>
      </div>
    </form>
  )
}

function PreferForm({ onSaved }: { onSaved: () => Promise<void> }) {
  const transport = useTransport()
  const [prompt, setPrompt] = useState('')
  const [a, setA] = useState('')
  const [b, setB] = useState('')
  const [labelA, setLabelA] = useState('')
  const [labelB, setLabelB] = useState('')
  const [choice, setChoice] = useState<'a' | 'b' | 'tie' | null>(null)
  const [status, setStatus] = useState<{ tone: 'error' | 'success'; text: string } | null>(null)
  const id = useId()
  const both = labelA.trim() !== '' && labelB.trim() !== '' && labelA.trim() !== labelB.trim()
  const { data: wins } = useApiQuery(
    'ratings.winRate',
    { a: labelA.trim() || '-', b: labelB.trim() || '-' },
    { enabled: both },
  )
  const save = async (e: FormEvent) => {
    e.preventDefault()
    if (!choice) return
    try {
      await call(transport, 'ratings.prefer', {
        prompt,
        outputA: a,
        outputB: b,
        choice,
        sourceA: source(labelA),
        sourceB: source(labelB),
      })
      setA('')
      setB('')
      setChoice(null)
      setStatus({ tone: 'success', text: 'Preference saved.' })
      await onSaved()
    } catch (err) {
      setStatus({ tone: 'error', text: message(err) })
    }
  }
  return (
    <form className="stack" onSubmit={(e) => void save(e)}>
      <div className="field">
        <label htmlFor={`${id}-p`}>Prompt</label>
        <textarea
          id={`${id}-p`}
          className="input"
          rows={2}
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
        />
      </div>
      <div className="side-by-side-form">
        {[
          { side: 'A', text: a, setText: setA, label: labelA, setLabel: setLabelA },
          { side: 'B', text: b, setText: setB, label: labelB, setLabel: setLabelB },
        ].map((s) => (
          <div key={s.side} className="stack" style={{ gap: 4 }}>
            <div className="field">
              <label htmlFor={`${id}-${s.side}`}>Output {s.side}</label>
              <textarea
                id={`${id}-${s.side}`}
                className="input"
                rows={3}
                value={s.text}
                onChange={(e) => s.setText(e.target.value)}
              />
            </div>
            <input
              className="input"
              aria-label={`Model of output ${s.side} (optional)`}
              placeholder={`Model of ${s.side} (optional)`}
              value={s.label}
              onChange={(e) => s.setLabel(e.target.value)}
            />
          </div>
        ))}
      </div>
      <div className="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
        <PreferenceInput value={choice} onChange={setChoice} />
        {both && wins && (
          <span className="small muted" role="status">
            So far {labelA.trim()} won {wins.a}, {labelB.trim()} won {wins.b}, {wins.ties} ties
            {wins.a + wins.b > 0
              ? ` (${Math.round((100 * wins.a) / (wins.a + wins.b))}% for ${labelA.trim()})`
              : ''}
            .
          </span>
        )}
      </div>
      {status && <Notice tone={status.tone}>{status.text}</Notice>}
      <div className="row" style={{ justifyContent: 'flex-end' }}>
        <Button
          type="submit"
          variant="primary"
          disabled={choice === null || !prompt.trim() || !a.trim() || !b.trim()}
        >
          Save preference
        </Button>
      </div>
    </form>
  )
}
