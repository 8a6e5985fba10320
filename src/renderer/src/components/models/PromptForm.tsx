import { Play, Square } from 'lucide-react'
import { useId } from 'react'
import { Button } from '../Button'

/**
 * A prompt box with Generate and Stop, as the playground and the A/B comparison use it:
 * Ctrl+Enter (⌘+Enter) generates unless a generation is running.
 */
export function PromptForm(props: {
  prompt: string
  onPrompt: (prompt: string) => void
  running: boolean
  onGenerate: () => void
  onStop: () => void
  generateLabel?: string
  rows?: number
  placeholder?: string
}) {
  const id = useId()
  return (
    <>
      <div className="field">
        <label htmlFor={id}>Prompt</label>
        <textarea
          id={id}
          className="input"
          rows={props.rows ?? 4}
          value={props.prompt}
          placeholder={props.placeholder}
          onChange={(e) => props.onPrompt(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault()
              if (!props.running) props.onGenerate()
            }
          }}
        />
      </div>
      <div className="row">
        <Button
          variant="primary"
          icon={<Play size={14} />}
          disabled={props.running}
          onClick={props.onGenerate}
          aria-keyshortcuts="Control+Enter"
          title="Ctrl+Enter"
        >
          {props.generateLabel ?? 'Generate'}
        </Button>
        <Button icon={<Square size={14} />} disabled={!props.running} onClick={props.onStop}>
          Stop
        </Button>
      </div>
    </>
  )
}
