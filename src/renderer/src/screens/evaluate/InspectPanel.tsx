import { Eye } from 'lucide-react'
import { useId, useState } from 'react'
import { ApiCallError, call, useTransport } from '../../api/client'
import { useJob } from '../../api/jobs'
import { Button } from '../../components/Button'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import {
  CheckpointPicker,
  useFirstCheckpoint,
  type CheckpointRef,
} from '../../components/models/CheckpointPicker'
import type { PromptInspection } from '../../../../shared/generate'

/** A token as a label: whitespace made visible. */
const showToken = (t: string) =>
  t.replaceAll(' ', '␣').replaceAll('\n', '⏎').replaceAll('\t', '⇥') || '∅'

/** An expert's colour: evenly spaced hues, stable per index. */
const expertColor = (e: number, experts: number) =>
  `hsl(${Math.round((360 * e) / Math.max(1, experts))} 65% 50%)`

/** Where each token looks (attention) and which experts it is sent to (routing). */
export function InspectPanel() {
  const transport = useTransport()
  const fallback = useFirstCheckpoint()
  const [chosen, setChosen] = useState<CheckpointRef | null>(null)
  const ref = chosen ?? fallback
  const [prompt, setPrompt] = useState('')
  const [jobId, setJobId] = useState<string | null>(null)
  const [data, setData] = useState<PromptInspection | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [layer, setLayer] = useState(0)
  const [head, setHead] = useState(0)
  const promptId = useId()

  useJob(jobId, {
    onEnd: (job) => {
      setJobId(null)
      if (job.state === 'succeeded') {
        const r = job.result as PromptInspection
        setData(r)
        setLayer((l) => Math.min(l, r.layers - 1))
        setHead((h) => Math.min(h, r.heads - 1))
      } else setError(job.error?.message ?? 'The inspection did not finish.')
    },
  })

  const inspect = async () => {
    setError(null)
    if (!ref) return setError('Choose a run with a checkpoint.')
    if (!prompt.trim()) return setError('Write a prompt.')
    try {
      const job = await call(transport, 'models.inspect', { ...ref, prompt })
      setJobId(job.id)
    } catch (err) {
      setError(err instanceof ApiCallError ? err.message : String(err))
    }
  }

  return (
    <Panel
      title="Attention and routing"
      description="One forward pass over a short prompt (its first 64 tokens): where each token attends, per layer and head, and which experts each token is routed to."
    >
      <div className="stack">
        <div className="playground">
          <CheckpointPicker label="Model" value={ref} onChange={setChosen} />
          <div className="stack">
            <div className="field">
              <label htmlFor={promptId}>Prompt</label>
              <textarea
                id={promptId}
                className="input"
                rows={2}
                value={prompt}
                onChange={(e) => setPrompt(e.target.value)}
              />
            </div>
            <div className="row">
              <Button
                variant="primary"
                icon={<Eye size={14} />}
                disabled={jobId !== null}
                onClick={() => void inspect()}
              >
                {jobId ? 'Inspecting…' : 'Inspect'}
              </Button>
            </div>
          </div>
        </div>
        {error && <Notice tone="error">{error}</Notice>}
        {data && (
          <>
            <div className="row" style={{ flexWrap: 'wrap' }}>
              <label className="row small">
                Layer
                <select
                  className="select"
                  aria-label="Layer"
                  value={layer}
                  onChange={(e) => setLayer(Number(e.target.value))}
                >
                  {Array.from({ length: data.layers }, (_, l) => (
                    <option key={l} value={l}>
                      {l + 1}
                    </option>
                  ))}
                </select>
              </label>
              <label className="row small">
                Head
                <select
                  className="select"
                  aria-label="Head"
                  value={head}
                  onChange={(e) => setHead(Number(e.target.value))}
                >
                  {Array.from({ length: data.heads }, (_, h) => (
                    <option key={h} value={h}>
                      {h + 1}
                    </option>
                  ))}
                </select>
              </label>
              <span className="small muted">
                Row: the token attending; column: the token attended to. Darker is more weight; each
                row sums to 1. Step {data.step}.
              </span>
            </div>
            <AttentionMap
              tokens={data.tokens}
              weights={data.attention[layer][head]}
              label={`Attention, layer ${layer + 1}, head ${head + 1}`}
            />
            {data.routing.length > 0 ? (
              <RoutingTable data={data} />
            ) : (
              <p className="small muted">This model is dense: there is no routing to show.</p>
            )}
          </>
        )}
      </div>
    </Panel>
  )
}

function AttentionMap({
  tokens,
  weights,
  label,
}: {
  tokens: string[]
  weights: number[][]
  label: string
}) {
  const n = tokens.length
  return (
    <div className="attention-scroll">
      <table className="attention-map" aria-label={label}>
        <thead>
          <tr>
            <th />
            {tokens.map((t, j) => (
              <th key={j} scope="col" className="attention-col">
                <span>{showToken(t)}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weights.slice(0, n).map((row, i) => (
            <tr key={i}>
              <th scope="row" className="attention-row">
                {showToken(tokens[i])}
              </th>
              {row.map((w, j) => (
                <td
                  key={j}
                  style={{ '--w': w } as React.CSSProperties}
                  title={`${showToken(tokens[i])} → ${showToken(tokens[j])}: ${(w * 100).toFixed(1)}%`}
                />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function RoutingTable({ data }: { data: PromptInspection }) {
  return (
    <div className="attention-scroll">
      <table className="table routing-table" aria-label="Expert routing">
        <thead>
          <tr>
            <th>Token</th>
            {data.routing.map((r) => (
              <th key={r.layer}>Layer {r.layer + 1}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.tokens.map((t, i) => (
            <tr key={i}>
              <td className="mono">{showToken(t)}</td>
              {data.routing.map((r) => (
                <td key={r.layer}>
                  <span className="row" style={{ gap: 4, flexWrap: 'wrap' }}>
                    {r.tokens[i].experts.map((e, k) => (
                      <span
                        key={e}
                        className="expert-chip"
                        style={{ '--expert': expertColor(e, data.experts) } as React.CSSProperties}
                        title={`expert ${e + 1}, gate weight ${r.tokens[i].weights[k].toFixed(3)}`}
                      >
                        E{e + 1} {r.tokens[i].weights[k].toFixed(2)}
                      </span>
                    ))}
                  </span>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
