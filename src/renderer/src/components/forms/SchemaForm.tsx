import { useId, useMemo } from 'react'
import { z } from 'zod'

/**
 * A form generated from a zod object schema: one field per property, with the schema's
 * description as help, its default as the placeholder, its range and choices as input
 * limits. Values hold only what the user changed; everything else takes the default.
 * Nullable objects (e.g. the mixture of experts) become a switch plus a nested fieldset.
 */

interface JsonSchema {
  type?: string | string[]
  description?: string
  default?: unknown
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  enum?: unknown[]
  anyOf?: JsonSchema[]
  properties?: Record<string, JsonSchema>
  items?: JsonSchema & { oneOf?: JsonSchema[] }
}

/** A list of objects (GRPO's reward rules): no field here edits one; the page gives its own editor. */
function isObjectList(s: JsonSchema): boolean {
  const { inner } = unwrap(s)
  const items = inner.items
  return (
    inner.type === 'array' && !!items && (items.type === 'object' || !!items.oneOf || !!items.anyOf)
  )
}

export type FormValues = Record<string, unknown>

/** Field errors keyed by dotted path ("moe.topK"). */
export type FieldErrors = Record<string, string>

export function schemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
}

/** Validate with zod and key the messages by field path, for inline display. */
export function fieldErrors(schema: z.ZodType, values: unknown): FieldErrors {
  const r = schema.safeParse(values)
  if (r.success) return {}
  const out: FieldErrors = {}
  for (const issue of r.error.issues) {
    const key = issue.path.map(String).join('.')
    out[key] ??= issue.message
  }
  return out
}

/** Words that are names or symbols, not prose. */
const terms: Record<string, string> = {
  ffn: 'FFN',
  moe: 'Mixture of experts',
  rope: 'RoPE',
  eps: 'ε',
  lr: 'LR',
  k: 'k',
  p: 'p',
  adam: 'Adam',
  aux: 'aux',
  grpo: 'GRPO',
  lora: 'LoRA',
  kl: 'KL',
}

/** camelCase to words: "gradAccumulation" -> "Grad accumulation", "ffnHidden" -> "FFN hidden". */
function label(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(' ')
    .map((w) => terms[w] ?? w)
  const text = words.join(' ').replace(/^top (k|p)$/, 'Top-$1')
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** The non-null branch of a nullable property, and whether null is allowed. */
function unwrap(s: JsonSchema): { inner: JsonSchema; nullable: boolean } {
  if (s.anyOf) {
    const nonNull = s.anyOf.find((b) => b.type !== 'null')
    if (nonNull)
      return {
        inner: { ...nonNull, description: s.description, default: s.default },
        nullable: s.anyOf.some((b) => b.type === 'null'),
      }
  }
  return { inner: s, nullable: false }
}

/** A field value or default as text: numbers, strings and booleans as written, objects as JSON. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v)
  return JSON.stringify(v)
}

/** "0, 2 5" → [0, 2, 5]; '' → undefined (the default); anything else stays text. */
function parseNumberList(text: string): unknown {
  if (text.trim() === '') return undefined
  const parts = text.split(/[\s,]+/).filter(Boolean)
  const numbers = parts.map(Number)
  return /[\d]$/.test(text.trim()) && numbers.every(Number.isFinite) ? numbers : text
}

function formatNumber(v: unknown): string {
  return valueText(v)
}

interface FieldProps {
  path: string
  name: string
  schema: JsonSchema
  value: unknown
  error: string | undefined
  onChange: (value: unknown) => void
}

function Field({ path, name, schema, value, error, onChange }: FieldProps) {
  const id = useId()
  const { inner, nullable } = unwrap(schema)
  const hint = `${inner.description ?? ''}`
  const def = inner.default
  const defaultText =
    def === null || (Array.isArray(def) && def.length === 0) ? 'none' : valueText(def)
  const common = {
    id,
    'aria-describedby': `${id}-hint`,
    'aria-invalid': error ? true : undefined,
    'data-field': path,
  }
  let control: React.ReactNode
  if (inner.enum) {
    control = (
      <select
        className="select"
        {...common}
        value={valueText(value)}
        onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
      >
        <option value="">Default ({defaultText})</option>
        {inner.enum.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    )
  } else if (inner.type === 'array' && inner.items?.enum) {
    // A set of named choices (LoRA's targets): one checkbox each, in the schema's order.
    const options = inner.items.enum.map(String)
    const chosen = Array.isArray(value)
      ? value.map(String)
      : Array.isArray(def)
        ? def.map(String)
        : []
    control = (
      <div className="row" role="group" aria-label={label(name)} data-field={path}>
        {options.map((option) => (
          <label key={option} className="row">
            <input
              type="checkbox"
              className="checkbox"
              checked={chosen.includes(option)}
              onChange={(e) =>
                onChange(
                  options.filter((o) => (o === option ? e.target.checked : chosen.includes(o))),
                )
              }
            />
            {option}
          </label>
        ))}
      </div>
    )
  } else if (inner.type === 'array') {
    // A list of numbers, typed comma-separated; text that is not one yet stays as typed
    // (and the schema names the problem) so a half-typed "0," is not rewritten.
    control = (
      <input
        className="input"
        type="text"
        placeholder={defaultText}
        {...common}
        value={Array.isArray(value) ? value.join(', ') : valueText(value)}
        onChange={(e) => onChange(parseNumberList(e.target.value))}
      />
    )
  } else if (inner.type === 'boolean') {
    const checked = value === undefined ? def === true : value === true
    control = (
      <input
        type="checkbox"
        className="checkbox"
        {...common}
        checked={checked}
        onChange={(e) => onChange(e.target.checked === def ? undefined : e.target.checked)}
      />
    )
  } else {
    const integer = inner.type === 'integer'
    const max =
      inner.maximum !== undefined && inner.maximum < Number.MAX_SAFE_INTEGER
        ? inner.maximum
        : undefined
    control = (
      <input
        className="input"
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        step={integer ? 1 : 'any'}
        min={inner.minimum ?? inner.exclusiveMinimum}
        max={max ?? inner.exclusiveMaximum}
        placeholder={defaultText}
        {...common}
        value={formatNumber(value)}
        onChange={(e) => {
          const text = e.target.value
          if (text === '') onChange(undefined)
          else onChange(Number(text))
        }}
      />
    )
  }
  const lo = inner.minimum ?? inner.exclusiveMinimum
  const hi =
    inner.maximum !== undefined && inner.maximum < Number.MAX_SAFE_INTEGER
      ? inner.maximum
      : inner.exclusiveMaximum
  const range =
    lo !== undefined && hi !== undefined
      ? ` From ${lo} to ${hi}.`
      : lo !== undefined
        ? ` At least ${lo}.`
        : hi !== undefined
          ? ` At most ${hi}.`
          : ''
  return (
    <div className="field schema-field">
      <label htmlFor={id}>
        {label(name)}
        {nullable && value === null ? ' (none)' : ''}
      </label>
      {control}
      <span className="field-hint" id={`${id}-hint`}>
        {hint}
        {defaultText !== '' && ` Default: ${defaultText}.`}
        {range}
      </span>
      {error && <span className="error-text">{error}</span>}
    </div>
  )
}

interface SchemaFormProps {
  schema: z.ZodType
  values: FormValues
  onChange: (values: FormValues) => void
  errors: FieldErrors
  /** Properties not to show (set elsewhere, e.g. the vocabulary size from the tokenizer). */
  hidden?: string[]
  /** Properties shown first; the rest follow in schema order. */
  order?: string[]
  prefix?: string
}

export function SchemaForm({
  schema,
  values,
  onChange,
  errors,
  hidden = [],
  order = [],
  prefix = '',
}: SchemaFormProps) {
  const json = useMemo(() => schemaOf(schema), [schema])
  const props = json.properties ?? {}
  const keys = [
    ...order.filter((k) => k in props),
    ...Object.keys(props).filter((k) => !order.includes(k)),
  ].filter((k) => !hidden.includes(k))
  const set = (key: string, v: unknown) => {
    const next = { ...values }
    if (v === undefined) delete next[key]
    else next[key] = v
    onChange(next)
  }
  return (
    <div className="schema-form">
      {keys.map((key) => {
        const path = prefix ? `${prefix}.${key}` : key
        const { inner, nullable } = unwrap(props[key])
        if (inner.type === 'object' && inner.properties) {
          // A nullable nested object: a switch, then its own fields.
          const on = values[key] !== undefined && values[key] !== null
          return (
            <fieldset key={key} className="schema-group">
              <legend>
                <label className="row">
                  <input
                    type="checkbox"
                    checked={on}
                    disabled={!nullable}
                    data-field={path}
                    onChange={(e) => set(key, e.target.checked ? {} : undefined)}
                  />
                  {label(key)}
                </label>
              </legend>
              <p className="field-hint">{inner.description}</p>
              {on && (
                <NestedForm
                  json={inner}
                  values={values[key] as FormValues}
                  onChange={(v) => set(key, v)}
                  errors={errors}
                  prefix={path}
                />
              )}
            </fieldset>
          )
        }
        return (
          <Field
            key={key}
            path={path}
            name={key}
            schema={props[key]}
            value={values[key]}
            error={errors[path]}
            onChange={(v) => set(key, v)}
          />
        )
      })}
    </div>
  )
}

function NestedForm({
  json,
  values,
  onChange,
  errors,
  prefix,
}: {
  json: JsonSchema
  values: FormValues
  onChange: (v: FormValues) => void
  errors: FieldErrors
  prefix: string
}) {
  const props = json.properties ?? {}
  return (
    <div className="schema-form nested">
      {Object.keys(props)
        .filter((key) => !isObjectList(props[key]))
        .map((key) => (
          <Field
            key={key}
            path={`${prefix}.${key}`}
            name={key}
            schema={props[key]}
            value={values[key]}
            error={errors[`${prefix}.${key}`]}
            onChange={(v) => {
              const next = { ...values }
              if (v === undefined) delete next[key]
              else next[key] = v
              onChange(next)
            }}
          />
        ))}
    </div>
  )
}
