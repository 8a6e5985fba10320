import { Plus, Trash2 } from 'lucide-react'
import { Button } from '../../components/Button'
import { rewardRuleSchema, type RewardRule } from '../../../../shared/config/train'

type Kind = RewardRule['kind']

const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'exact', label: 'Exact answer' },
  { kind: 'numeric', label: 'Numeric answer' },
  { kind: 'regex', label: 'Format (regular expression)' },
  { kind: 'length', label: 'Length penalty' },
  { kind: 'reward-model', label: 'Reward model' },
]

const HINTS: Record<Kind, string> = {
  exact: 'Pays its weight when the reply is the reference answer (spaces aside).',
  numeric: "Pays when the reply's last number is within the tolerance of the answer's.",
  regex: 'Pays when the reply matches the pattern (anchor it with ^ and $ for the whole reply).',
  length: 'Takes up to its weight away as the reply runs past the target, in tokens.',
  'reward-model':
    "Pays the reward model's score of the prompt and reply (its newest checkpoint when the run is created), times the weight.",
}

/** A new rule of a kind, with that kind's defaults (a reward model: the first there is). */
const fresh = (kind: Kind, rewardRuns: readonly RunOption[]): RewardRule =>
  rewardRuleSchema.parse(
    kind === 'regex'
      ? { kind, pattern: '^\\s*\\S+\\s*$' }
      : kind === 'reward-model'
        ? { kind, run: rewardRuns[0]?.id ?? '' }
        : { kind },
  )

interface RunOption {
  id: string
  name: string
}

/** GRPO's reward rules: each a kind, its one setting, and its weight; a reply earns their sum. */
export function RewardRulesEditor(props: {
  rules: RewardRule[]
  onChange: (rules: RewardRule[]) => void
  errors: Record<string, string>
  /** Reward runs with a checkpoint, for the reward-model rule. */
  rewardRuns: readonly RunOption[]
}) {
  const { rules, onChange, rewardRuns } = props
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
                onChange={(e) => set(i, fresh(e.target.value as Kind, rewardRuns))}
              >
                {KINDS.map((k) => (
                  <option
                    key={k.kind}
                    value={k.kind}
                    disabled={k.kind === 'reward-model' && rewardRuns.length === 0}
                  >
                    {k.label}
                    {k.kind === 'reward-model' && rewardRuns.length === 0
                      ? ' (train one first)'
                      : ''}
                  </option>
                ))}
              </select>
              {rule.kind === 'reward-model' && (
                <select
                  className="select"
                  style={{ width: 'auto' }}
                  aria-label={`Rule ${i + 1} reward model`}
                  value={rule.run}
                  onChange={(e) => set(i, { ...rule, run: e.target.value, checkpoint: null })}
                >
                  {rewardRuns.map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.name}
                    </option>
                  ))}
                </select>
              )}
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
        <Button
          onClick={() => onChange([...rules, fresh('regex', rewardRuns)])}
          disabled={rules.length >= 16}
        >
          <Plus size={14} /> Add a rule
        </Button>
      </div>
    </div>
  )
}
