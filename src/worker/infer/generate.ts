import { Rng } from '../../shared/rng'
import { documentStart, type Tokenizer } from '../tokenizer'
import type { Decoder } from './decoder'
import { UserError } from '../../shared/errors'
import { ChatTemplate } from '../sft/chat-template'
import { sampleToken } from './sample'
import type { GenerateOptions, GenerateResult } from '../../shared/generate'

export {
  generateOptionsSchema,
  type GenerateOptions,
  type GenerateResult,
} from '../../shared/generate'

export interface GeneratedToken {
  id: number
  /** The text this token completes (may be empty while a character is split across tokens). */
  text: string
}

/**
 * Generate text after a prompt, one token at a time through the decoder's cache, calling
 * `onToken` as each arrives (between tokens it yields to the event loop, so a worker
 * hears a cancel and its messages leave as they are made). Stops at the end-of-text token, a stop sequence, maxTokens, or
 * when `shouldStop` says so; past the model's context it slides (see below).
 */
export async function generate(
  decoder: Decoder,
  tokenizer: Tokenizer,
  prompt: string,
  options: GenerateOptions,
  onToken: (t: GeneratedToken) => void = () => undefined,
  shouldStop: () => boolean = () => false,
  /** The model's chat template (LoadedModel.chatTemplate), for `options.chat`. */
  chatTemplate: string | null = null,
): Promise<GenerateResult> {
  const rng = new Rng(options.seed)
  const context = decoder.config.contextLength
  // The prompt starts a document, as the model saw documents start in training.
  let ids = [
    ...documentStart(tokenizer),
    ...promptIds(tokenizer, prompt, options.chat, chatTemplate),
  ]
  // A chat reply ends at the template's end of turn: any special token (<|eos|>, <|im_end|>).
  const ends = new Set(
    options.chat
      ? tokenizer.specialTokens.map((t) => t.id)
      : tokenizer.eos === null
        ? []
        : [tokenizer.eos],
  )
  if (ids.length === 0) throw new Error('The prompt is empty.')
  // A prompt longer than the context keeps its end, as training saw windows of it.
  if (ids.length >= context) ids = ids.slice(ids.length - context + 1)
  decoder.reset()
  const sequence = [...ids]
  const promptStart = performance.now()
  // The model's rows may run past the tokenizer's ids (Qwen pads its embedding): the rows
  // are the model's width, and only ids the tokenizer can write are sampled.
  const next = (logits: Float32Array) =>
    lastRow(logits, decoder.config.vocabSize).subarray(0, tokenizer.vocabSize)
  let logits = next(await decoder.feed(ids))
  const promptMs = performance.now() - promptStart
  const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })
  let text = ''
  let tokens = 0
  let stop: GenerateResult['stop'] = 'length'
  const started = performance.now()
  while (tokens < options.maxTokens) {
    if (shouldStop()) {
      stop = 'cancelled'
      break
    }
    const id = sampleToken(logits, options, rng)
    if (ends.has(id)) {
      stop = 'eos'
      break
    }
    tokens++
    const piece = utf8.decode(tokenizer.decodeBytes([id]), { stream: true })
    text += piece
    const hit = options.stop.find((s) => text.endsWith(s))
    if (hit) {
      text = text.slice(0, text.length - hit.length)
      stop = 'stop-sequence'
      break
    }
    onToken({ id, text: piece })
    if (tokens >= options.maxTokens) break
    // Let the process hear a cancel and send the streamed token before the next one.
    await nextTick()
    sequence.push(id)
    if (decoder.length >= context) {
      // The context is full: keep its second half and go on from there (as training saw
      // windows of the text), at the cost of one prompt-sized pass every half context.
      decoder.reset()
      logits = next(await decoder.feed(sequence.slice(-Math.floor(context / 2))))
    } else logits = next(await decoder.feed([id]))
  }
  text += utf8.decode()
  const seconds = (performance.now() - started) / 1000
  return {
    text,
    tokens,
    promptTokens: ids.length,
    stop,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    promptMs,
  }
}

/** The prompt's ids: its text, or with `chat`, a user's turn and the assistant's opening. */
function promptIds(
  tokenizer: Tokenizer,
  prompt: string,
  chat: boolean,
  chatTemplate: string | null,
): Int32Array {
  if (!chat) return tokenizer.encode(prompt)
  if (chatTemplate === null)
    throw new UserError(
      'invalid_params',
      'This model has no chat template: it has only been pretrained. Fine-tune it on conversations first, or turn chat off.',
      'options.chat',
    )
  const text = new ChatTemplate(chatTemplate, tokenizer).render(
    [{ role: 'user', content: prompt }],
    true,
  )
  return tokenizer.encode(text, { allowSpecial: true })
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The last row of row-major (n, V) logits. */
function lastRow(logits: Float32Array, V: number): Float32Array {
  return logits.subarray(logits.length - V)
}
