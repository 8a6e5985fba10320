import { useId } from 'react'
import { generateOptionsSchema, type GenerateOptions } from '../../../../shared/generate'

export const defaultGenerateOptions: GenerateOptions = generateOptionsSchema.parse({})

/** Stop sequences as typed: separated by "|", with "\n" for a line break. */
export function parseStops(typed: string): string[] {
  return typed
    .split('|')
    .map((s) => s.replaceAll('\\n', '\n').replaceAll('\\t', '\t'))
    .filter((s) => s.length > 0)
    .slice(0, 8)
}

interface NumberFieldProps {
  label: string
  hint: string
  value: number
  min: number
  max?: number
  step: number
  onChange: (v: number) => void
}

function NumberField({ label, hint, value, min, max, step, onChange }: NumberFieldProps) {
  const id = useId()
  return (
    <div className="field">
      <label htmlFor={id} title={hint}>
        {label}
      </label>
      <input
        id={id}
        className="input"
        type="number"
        value={Number.isFinite(value) ? value : ''}
        min={min}
        max={max}
        step={step}
        title={hint}
        onChange={(e) => onChange(e.target.valueAsNumber)}
      />
    </div>
  )
}

/**
 * The sampler's knobs, each with the schema's own description as its tooltip. Values are
 * checked by the schema when generation starts; a bad one is named in the error.
 */
export function GenerationSettings({
  value,
  stops,
  onChange,
  onStops,
}: {
  value: GenerateOptions
  /** The stop sequences as typed (see parseStops). */
  stops: string
  onChange: (options: GenerateOptions) => void
  onStops: (typed: string) => void
}) {
  const stopId = useId()
  const chatId = useId()
  const hint = (key: keyof GenerateOptions) => generateOptionsSchema.shape[key].description ?? ''
  const set = (key: keyof GenerateOptions) => (v: number) => onChange({ ...value, [key]: v })
  return (
    <div className="generation-settings" role="group" aria-label="Sampling">
      <NumberField
        label="Temperature"
        hint={hint('temperature')}
        value={value.temperature}
        min={0}
        max={5}
        step={0.1}
        onChange={set('temperature')}
      />
      <NumberField
        label="Top-k"
        hint={hint('topK')}
        value={value.topK}
        min={0}
        step={1}
        onChange={set('topK')}
      />
      <NumberField
        label="Top-p"
        hint={hint('topP')}
        value={value.topP}
        min={0.01}
        max={1}
        step={0.05}
        onChange={set('topP')}
      />
      <NumberField
        label="Max tokens"
        hint={hint('maxTokens')}
        value={value.maxTokens}
        min={1}
        max={4096}
        step={1}
        onChange={set('maxTokens')}
      />
      <NumberField
        label="Seed"
        hint={hint('seed')}
        value={value.seed}
        min={0}
        step={1}
        onChange={set('seed')}
      />
      <div className="field">
        <label htmlFor={chatId} title={hint('chat')}>
          Chat
        </label>
        <input
          id={chatId}
          type="checkbox"
          className="checkbox"
          title={hint('chat')}
          checked={value.chat}
          onChange={(e) => onChange({ ...value, chat: e.target.checked })}
        />
      </div>
      <div className="field stop-field">
        <label htmlFor={stopId}>Stop sequences</label>
        <input
          id={stopId}
          className="input"
          value={stops}
          placeholder="e.g. \n\n|THE END"
          aria-describedby={`${stopId}-hint`}
          onChange={(e) => onStops(e.target.value)}
        />
        <span id={`${stopId}-hint`} className="field-hint">
          Separate with |; \n is a line break.
        </span>
      </div>
    </div>
  )
}

/** The options to send, or the first problem with them in words. */
export function checkOptions(
  value: GenerateOptions,
  stops: string,
): { ok: true; options: GenerateOptions } | { ok: false; message: string } {
  const parsed = generateOptionsSchema.safeParse({ ...value, stop: parseStops(stops) })
  if (parsed.success) return { ok: true, options: parsed.data }
  const issue = parsed.error.issues[0]
  const names: Record<string, string> = {
    temperature: 'Temperature',
    topK: 'Top-k',
    topP: 'Top-p',
    maxTokens: 'Max tokens',
    seed: 'Seed',
    stop: 'Stop sequences',
  }
  const field = names[String(issue?.path[0])] ?? 'A setting'
  return { ok: false, message: `${field}: ${issue?.message ?? 'invalid'}` }
}
