import { formatCount, formatDuration, formatRelative } from '../../format'
import type { EvalRecord } from '../../../../shared/api/models'

interface McSubject {
  name: string
  questions: number
  correct: number
  accuracy: number
  chance: number
}

const pct = (x: unknown) => `${(Number(x) * 100).toFixed(1)}%`

/** What an evaluation found, in one line (multiple choice: subjects below, folded). */
function Summary({ e }: { e: EvalRecord }) {
  const r = e.result
  if (e.kind === 'perplexity')
    return (
      <>
        perplexity <strong>{Number(r.perplexity).toFixed(3)}</strong> (loss{' '}
        {Number(r.loss).toFixed(4)}) on{' '}
        {typeof e.params.on === 'string' ? e.params.on : 'the validation split'} ·{' '}
        {formatCount(Number(r.tokens))} tokens in {formatDuration(Number(r.wallMs))}
      </>
    )
  const overall = r.overall as { questions: number; accuracy: number; chance: number }
  const subjects = (r.subjects ?? []) as McSubject[]
  return (
    <details>
      <summary>
        accuracy <strong>{pct(overall.accuracy)}</strong> (chance {pct(overall.chance)}) over{' '}
        {formatCount(overall.questions)} questions, {Number(e.params.shots ?? 0)}-shot,{' '}
        {subjects.length} {subjects.length === 1 ? 'subject' : 'subjects'}
      </summary>
      <table className="table" aria-label="Accuracy per subject">
        <thead>
          <tr>
            <th>Subject</th>
            <th className="num">Questions</th>
            <th className="num">Accuracy</th>
            <th className="num">Chance</th>
          </tr>
        </thead>
        <tbody>
          {subjects.map((s) => (
            <tr key={s.name}>
              <td>{s.name}</td>
              <td className="num">{formatCount(s.questions)}</td>
              <td className="num">{pct(s.accuracy)}</td>
              <td className="num">{pct(s.chance)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  )
}

/** A run's stored evaluations, newest first. */
export function EvalsTable({ evals }: { evals: EvalRecord[] }) {
  return (
    <table className="table" aria-label="Evaluations">
      <thead>
        <tr>
          <th>When</th>
          <th className="num">Step</th>
          <th>Kind</th>
          <th>Result</th>
        </tr>
      </thead>
      <tbody>
        {evals.map((e) => (
          <tr key={e.id}>
            <td className="small muted">{formatRelative(e.createdAt)}</td>
            <td className="num">{formatCount(e.step)}</td>
            <td>{e.kind === 'mc' ? 'multiple choice' : 'perplexity'}</td>
            <td className="small">
              <Summary e={e} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
