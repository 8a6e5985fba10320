import { Plus, Trash2 } from 'lucide-react'
import { Button } from '../../components/Button'
import { rewardRuleSchema, type RewardRule } from '../../../../shared/config/train'

type Kind = RewardRule['kind']

const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'exact', label: 'Exact answer' },
  { kind: 'numeric', label: 'Numeric answer' },
  { kind: 'regex', label: 'Format (regular expression)' },
  { kind: 'length', label: 'Length penalty' },
]

const HINTS: Record<Kind, string> = {
  exact: 'Pays its weight when the reply is the reference answer (spaces aside).',
  numeric: "Pays when the reply's last number is within the tolerance of the answer's.",
  regex: 'Pays when the reply matches the pattern (anchor it with ^ and $ for the whole reply).',
  length: 'Takes up to its weight away as the reply runs past the target, in tokens.',
}

/** A new rule of a kind, with that kind's defaults. */
const fresh = (kind: Kind): RewardRule =>
  rewardRuleSchema.parse(kind === 'regex' ? { kind, pattern: '^\\s*\\S+\\s*$' } : { kind })

/** GRPO's reward rules: each a kind, its one setting, and its weight; a reply earns their sum. */
export function RewardRulesEditor(props: {
  rules: RewardRule[]
  onChange: (rules: RewardRule[]) => void
  errors: Record<string, string>
}) {
  const { rules, onChange } = props
  const set = (i: number, rule: RewardRule) => onChange(rules.map((r, j) => (j === i ? rule : r)))
  return (
    <div className="stack" role="group" aria-label="Reward rules">
      {rules.map((rule, i) => {
        const error = Object.entries(props.errors).find(([k]) =>
          k.startsWith(`grpo.rewards.${i}`),
        )?.[1]
        return (
          <div key={i} className="schema-group">
            <div className="row">
              <select
                className="select"
                style={{ width: 'auto' }}
                aria-label={`Rule ${i + 1} kind`}
                value={rule.kind}
                onChange={(e) => set(i, fresh(e.target.value as Kind))}
              >
                {KINDS.map((k) => (
                  <option key={k.kind} value={k.kind}>
                    {k.label}
                  </option>
                ))}
              </select>
              {rule.kind === 'numeric' && (
                <input
                  className="input"
                  type="number"
                  min={0}
                  step="any"
                  style={{ width: '7em' }}
                  title="Tolerance"
                  aria-label={`Rule ${i + 1} tolerance`}
                  value={rule.tolerance}
                  onChange={(e) => set(i, { ...rule, tolerance: Number(e.target.value) })}
                />
              )}
              {rule.kind === 'regex' && (
                <input
                  className="input"
                  style={{ flex: 1, minWidth: '8em' }}
                  title="Regular expression"
                  aria-label={`Rule ${i + 1} pattern`}
                  value={rule.pattern}
                  onChange={(e) => set(i, { ...rule, pattern: e.target.value })}
                />
              )}
              {rule.kind === 'length' && (
                <input
                  className="input"
                  type="number"
                  min={1}
                  step={1}
                  style={{ width: '7em' }}
                  title="Target length in tokens"
                  aria-label={`Rule ${i + 1} target tokens`}
                  value={rule.target}
                  onChange={(e) => set(i, { ...rule, target: Number(e.target.value) })}
                />
              )}
              <span className="muted small">×</span>
              <input
                className="input"
                type="number"
                step="any"
                style={{ width: '6em' }}
                aria-label={`Rule ${i + 1} weight`}
                title="Weight"
                value={rule.weight}
                onChange={(e) => set(i, { ...rule, weight: Number(e.target.value) })}
              />
              <Button
                aria-label={`Remove rule ${i + 1}`}
                disabled={rules.length === 1}
                onClick={() => onChange(rules.filter((_, j) => j !== i))}
              >
                <Trash2 size={14} />
              </Button>
            </div>
            <span className="field-hint">{error ?? HINTS[rule.kind]}</span>
          </div>
        )
      })}
      <div>
        <Button onClick={() => onChange([...rules, fresh('regex')])} disabled={rules.length >= 16}>
          <Plus size={14} /> Add a rule
        </Button>
      </div>
    </div>
  )
}
