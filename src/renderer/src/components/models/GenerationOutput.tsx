import type { Generation } from './useGeneration'

const stopReasons = {
  length: 'reached max tokens',
  eos: 'the model ended the text',
  'stop-sequence': 'hit a stop sequence',
  cancelled: 'stopped',
} as const

/** The prompt (dimmed) and the generated text as it streams, with its speed. */
export function GenerationOutput({
  prompt,
  generation,
  label,
}: {
  prompt: string
  generation: Generation
  label: string
}) {
  const { text, running, tokens, tokensPerSecond, result, error } = generation
  return (
    <div className="stack" style={{ gap: 6 }}>
      <div
        className="generation-output"
        role="log"
        aria-label={label}
        aria-busy={running}
        data-state={running ? 'running' : result ? 'done' : 'idle'}
      >
        {text || running ? (
          <>
            <span className="generation-prompt">{prompt}</span>
            <span className="generation-text">{text}</span>
            {running && <span className="generation-caret" aria-hidden />}
          </>
        ) : (
          <span className="muted">The output appears here as it is generated.</span>
        )}
      </div>
      <p className="small muted" aria-live="polite">
        {error ? (
          <span className="error-text">{error}</span>
        ) : running ? (
          `${tokens} tokens${tokensPerSecond ? ` · ${tokensPerSecond.toFixed(1)} tokens/s` : ''}…`
        ) : result ? (
          `${result.tokens} tokens at ${result.tokensPerSecond.toFixed(1)} tokens/s · prompt ${result.promptTokens} tokens in ${result.promptMs.toFixed(0)} ms · ${stopReasons[result.stop]} · step ${result.step}`
        ) : (
          ''
        )}
      </p>
    </div>
  )
}
