import { ArrowDown, ArrowUp, ChevronDown, ChevronRight, Play, RotateCcw, Save } from 'lucide-react'
import { useQueryClient } from '@tanstack/react-query'
import { useId, useMemo, useState } from 'react'
import { useApiMutation, useApiQuery } from '../../api/client'
import { Button } from '../../components/Button'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import {
  dedupCatalog,
  qualityCatalog,
  ruleCatalog,
  type ParamSpec,
} from '../../../../shared/data/catalog'
import { defaultRuleSet, type DocRule, type RuleSet } from '../../../../shared/data/rules'

type Params = Record<string, unknown>

interface RulesTabProps {
  datasetId: number
  datasetName: string
  busy: boolean
  onClean: () => void
}

const defaults = defaultRuleSet()
const defaultParams = (id: DocRule['id']): Params => defaults.rules.find((r) => r.id === id)!.params

/**
 * The rule editor: the ordered rules with their switches and thresholds (defaults shown
 * beside each), the corpus stages, and saving the set under a name for this dataset.
 */
export function RulesTab(props: RulesTabProps) {
  const { data } = useApiQuery('data.rules', { datasetId: props.datasetId })
  if (!data) return <p className="muted">Loading rules…</p>
  // A new saved version starts a fresh draft.
  return (
    <RuleEditor key={`${data.ruleSetId}:${JSON.stringify(data.rules)}`} {...props} saved={data} />
  )
}

function RuleEditor({
  datasetId,
  datasetName,
  busy,
  onClean,
  saved: data,
}: RulesTabProps & { saved: { ruleSetId: number | null; name: string | null; rules: RuleSet } }) {
  const client = useQueryClient()
  const [draft, setDraft] = useState<RuleSet>(() => structuredClone(data.rules))
  const [name, setName] = useState(data.name ?? `${datasetName} rules`)
  const refresh = () => {
    for (const key of ['data.rules', 'data.ruleSets', 'datasets.list'])
      void client.invalidateQueries({ queryKey: [key] })
  }
  const save = useApiMutation('data.saveRules', { onSuccess: refresh })
  const attachDefaults = useApiMutation('data.useRules', { onSuccess: refresh })
  const nameId = useId()
  const dirty = useMemo(() => JSON.stringify(draft) !== JSON.stringify(data.rules), [draft, data])

  const update = (next: RuleSet) => setDraft(next)
  const setRule = (index: number, rule: DocRule) => {
    const rules = [...draft.rules]
    rules[index] = rule
    update({ ...draft, rules })
  }
  const move = (index: number, by: -1 | 1) => {
    const rules = [...draft.rules]
    const [rule] = rules.splice(index, 1)
    rules.splice(index + by, 0, rule)
    update({ ...draft, rules })
    // Keep focus on the moved rule's button so a keyboard user can keep moving it.
    requestAnimationFrame(() =>
      document.getElementById(`move-${rule.id}-${by < 0 ? 'up' : 'down'}`)?.focus(),
    )
  }
  const persist = async (thenClean: boolean) => {
    if (dirty) await save.mutateAsync({ datasetId, name, rules: draft })
    if (thenClean) onClean()
  }

  return (
    <div className="stack" style={{ gap: 'var(--space-4)' }}>
      <Panel
        title="Document rules"
        description="Applied in this order to each document. The first rule that removes a document ends its run; every rule records what it measured."
      >
        <ol className="rule-list">
          {draft.rules.map((rule, i) => (
            <RuleCard
              key={rule.id}
              rule={rule}
              first={i === 0}
              last={i === draft.rules.length - 1}
              onChange={(r) => setRule(i, r)}
              onMove={(by) => move(i, by)}
            />
          ))}
        </ol>
      </Panel>
      <Panel title="Corpus stages" description="After every document has been through the rules.">
        <div className="stack">
          <StageCard
            title={dedupCatalog.exact.title}
            summary={dedupCatalog.exact.summary}
            source={dedupCatalog.exact.source}
            enabled={draft.dedup.exact.enabled}
            onToggle={(enabled) =>
              update({ ...draft, dedup: { ...draft.dedup, exact: { enabled } } })
            }
            specs={[]}
            params={{}}
            defaults={{}}
            onParams={() => undefined}
          />
          <StageCard
            title={dedupCatalog.near.title}
            summary={dedupCatalog.near.summary}
            source={dedupCatalog.near.source}
            enabled={draft.dedup.near.enabled}
            onToggle={(enabled) =>
              update({
                ...draft,
                dedup: { ...draft.dedup, near: { ...draft.dedup.near, enabled } },
              })
            }
            specs={dedupCatalog.near.params}
            params={draft.dedup.near}
            defaults={defaults.dedup.near}
            onParams={(p) =>
              update({ ...draft, dedup: { ...draft.dedup, near: { ...draft.dedup.near, ...p } } })
            }
          />
          <StageCard
            title={qualityCatalog.title}
            summary={qualityCatalog.summary}
            source={qualityCatalog.source}
            enabled={draft.quality.enabled}
            onToggle={(enabled) => update({ ...draft, quality: { ...draft.quality, enabled } })}
            specs={qualityCatalog.params}
            params={draft.quality}
            defaults={defaults.quality}
            onParams={(p) => update({ ...draft, quality: { ...draft.quality, ...p } })}
          />
        </div>
      </Panel>
      <div className="rules-footer">
        <div className="field" style={{ minWidth: 240 }}>
          <label htmlFor={nameId}>Rule set name</label>
          <input
            id={nameId}
            className="input"
            value={name}
            maxLength={100}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <span className="small muted" role="status">
          {dirty
            ? 'Unsaved changes'
            : data.ruleSetId
              ? `Using “${data.name}”`
              : 'Using the defaults'}
        </span>
        <span style={{ flex: 1 }} />
        <Button
          icon={<RotateCcw size={14} />}
          onClick={() => {
            update(structuredClone(defaults))
            if (data.ruleSetId !== null) attachDefaults.mutate({ datasetId, ruleSetId: null })
          }}
        >
          Reset to defaults
        </Button>
        <Button
          icon={<Save size={14} />}
          disabled={!dirty || save.isPending || !name.trim()}
          onClick={() => void persist(false)}
        >
          Save
        </Button>
        <Button
          variant="primary"
          icon={<Play size={14} />}
          disabled={busy || save.isPending || !name.trim()}
          onClick={() => void persist(true)}
        >
          {dirty ? 'Save and clean' : 'Clean'}
        </Button>
      </div>
      {save.error && <Notice tone="error">{save.error.message}</Notice>}
    </div>
  )
}

function RuleCard({
  rule,
  first,
  last,
  onChange,
  onMove,
}: {
  rule: DocRule
  first: boolean
  last: boolean
  onChange: (rule: DocRule) => void
  onMove: (by: -1 | 1) => void
}) {
  const info = ruleCatalog[rule.id]
  const [open, setOpen] = useState(false)
  const panelId = useId()
  const changed = info.params.filter(
    (p) =>
      JSON.stringify((rule.params as Params)[p.key]) !==
      JSON.stringify(defaultParams(rule.id)[p.key]),
  ).length
  return (
    <li className="rule-card" data-enabled={rule.enabled}>
      <div className="rule-head">
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={rule.enabled}
            onChange={(e) => onChange({ ...rule, enabled: e.target.checked })}
            aria-label={`${info.title} on`}
          />
          <span aria-hidden className="switch-track" />
        </label>
        <button
          type="button"
          className="rule-title"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen(!open)}
        >
          {open ? <ChevronDown size={14} aria-hidden /> : <ChevronRight size={14} aria-hidden />}
          <strong>{info.title}</strong>
          {changed > 0 && (
            <span className="badge" data-tone="accent">
              {changed} changed
            </span>
          )}
        </button>
        <span className="rule-summary muted small">{info.summary}</span>
        <span className="row" style={{ flex: 'none', gap: 2 }}>
          <Button
            id={`move-${rule.id}-up`}
            size="small"
            variant="ghost"
            icon={<ArrowUp size={13} />}
            aria-label={`Move ${info.title} up`}
            disabled={first}
            onClick={() => onMove(-1)}
          />
          <Button
            id={`move-${rule.id}-down`}
            size="small"
            variant="ghost"
            icon={<ArrowDown size={13} />}
            aria-label={`Move ${info.title} down`}
            disabled={last}
            onClick={() => onMove(1)}
          />
        </span>
      </div>
      {open && (
        <div className="rule-body" id={panelId}>
          <p className="small muted">Defaults from: {info.source}</p>
          <ParamGrid
            specs={info.params}
            params={rule.params}
            defaults={defaultParams(rule.id)}
            onChange={(p) => onChange({ ...rule, params: { ...rule.params, ...p } } as DocRule)}
            owner={info.title}
          />
        </div>
      )}
    </li>
  )
}

function StageCard(props: {
  title: string
  summary: string
  source: string
  enabled: boolean
  onToggle: (enabled: boolean) => void
  specs: readonly ParamSpec[]
  params: Params
  defaults: Params
  onParams: (p: Params) => void
}) {
  return (
    <div className="rule-card" data-enabled={props.enabled}>
      <div className="rule-head">
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={props.enabled}
            onChange={(e) => props.onToggle(e.target.checked)}
            aria-label={`${props.title} on`}
          />
          <span aria-hidden className="switch-track" />
        </label>
        <strong className="rule-title-static">{props.title}</strong>
        <span className="rule-summary muted small">{props.summary}</span>
      </div>
      {props.specs.length > 0 && (
        <div className="rule-body">
          <p className="small muted">Defaults from: {props.source}</p>
          <ParamGrid
            specs={props.specs}
            params={props.params}
            defaults={props.defaults}
            onChange={props.onParams}
            owner={props.title}
          />
        </div>
      )}
    </div>
  )
}

function ParamGrid({
  specs,
  params,
  defaults: base,
  onChange,
  owner,
}: {
  specs: readonly ParamSpec[]
  params: Params
  defaults: Params
  onChange: (p: Params) => void
  owner: string
}) {
  return (
    <div className="param-grid">
      {specs.map((spec) => (
        <ParamField
          key={spec.key}
          spec={spec}
          value={params[spec.key]}
          fallback={base[spec.key]}
          onChange={(v) => onChange({ [spec.key]: v })}
          owner={owner}
        />
      ))}
    </div>
  )
}

const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') || '(none)' : String(v))

/** One parameter, its default beside it, and a reset when it differs. */
function ParamField({
  spec,
  value,
  fallback,
  onChange,
  owner,
}: {
  spec: ParamSpec
  value: unknown
  fallback: unknown
  onChange: (v: unknown) => void
  owner: string
}) {
  const id = useId()
  const asText = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v))
  const [text, setText] = useState(asText(value))
  const [invalid, setInvalid] = useState(false)
  // A value changed from outside (reset, another rule set) replaces the text; one the
  // user is typing does not (it would fight the cursor).
  const [shown, setShown] = useState(value)
  if (JSON.stringify(shown) !== JSON.stringify(value)) {
    setShown(value)
    const typed =
      spec.kind === 'list'
        ? text
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : Number(text)
    if (JSON.stringify(typed) !== JSON.stringify(value)) setText(asText(value))
  }
  const changed = JSON.stringify(value) !== JSON.stringify(fallback)
  const hint = `${spec.help ? `${spec.help}. ` : ''}Default ${show(fallback)}`
  const control = (() => {
    switch (spec.kind) {
      case 'boolean':
        return (
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
            aria-describedby={`${id}-hint`}
          />
        )
      case 'choice':
        return (
          <select
            id={id}
            className="select"
            value={String(value)}
            onChange={(e) => onChange(e.target.value)}
            aria-describedby={`${id}-hint`}
          >
            {spec.choices!.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        )
      case 'list':
        return (
          <input
            id={id}
            className="input"
            value={text}
            onChange={(e) => {
              setText(e.target.value)
              onChange(
                e.target.value
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean),
              )
            }}
            aria-describedby={`${id}-hint`}
          />
        )
      default:
        return (
          <input
            id={id}
            className="input num-input"
            type="number"
            inputMode="decimal"
            value={text}
            min={spec.min}
            max={spec.max}
            step={spec.step ?? (spec.kind === 'integer' ? 1 : 'any')}
            aria-invalid={invalid}
            aria-describedby={`${id}-hint`}
            onChange={(e) => {
              setText(e.target.value)
              const n = Number(e.target.value)
              const ok =
                e.target.value.trim() !== '' &&
                Number.isFinite(n) &&
                (spec.kind !== 'integer' || Number.isInteger(n)) &&
                (spec.min === undefined || n >= spec.min) &&
                (spec.max === undefined || n <= spec.max)
              setInvalid(!ok)
              if (ok) onChange(n)
            }}
          />
        )
    }
  })()
  return (
    <div className="field param-field" data-changed={changed}>
      <label htmlFor={id}>{spec.label}</label>
      <div className="row" style={{ flexWrap: 'nowrap' }}>
        {control}
        {changed && (
          <Button
            size="small"
            variant="ghost"
            aria-label={`Reset ${spec.label} (${owner}) to ${show(fallback)}`}
            icon={<RotateCcw size={12} />}
            onClick={() => {
              setInvalid(false)
              onChange(fallback)
            }}
          />
        )}
      </div>
      <span className="field-hint" id={`${id}-hint`}>
        {hint}
      </span>
    </div>
  )
}
