import { Template } from '@huggingface/jinja'
import type { Tokenizer } from '../tokenizer'
import type { Message } from './conversation'

/**
 * The chat template of a tokenizer that has none (Frugal's own): plain-text roles, each
 * assistant turn closed by the end-of-text token, so generation stops where a reply ends
 * and no new token (no embedding row) is needed. Hugging Face's Jinja dialect, so it is
 * exported as the model's `chat_template` and llama.cpp and transformers render it too.
 */
export const DEFAULT_CHAT_TEMPLATE = [
  '{%- for message in messages -%}',
  "{%- if message['role'] == 'system' -%}{{ message['content'] + '\\n\\n' }}",
  "{%- elif message['role'] == 'user' -%}{{ 'User: ' + message['content'] + '\\n\\n' }}",
  "{%- else -%}{{ 'Assistant: ' + message['content'] + eos_token + '\\n\\n' }}",
  '{%- endif -%}',
  '{%- endfor -%}',
  "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}",
].join('\n')

/** A stretch of a rendered conversation; `trained` for an assistant turn's text and its end token. */
export interface TemplatePiece {
  text: string
  trained: boolean
}

export type RenderedConversation =
  { ok: true; pieces: TemplatePiece[] } | { ok: false; problem: string }

/** A chat template, compiled once, with the special tokens it may name. */
export class ChatTemplate {
  private readonly template: Template
  private readonly specials: Record<string, string>

  constructor(
    readonly source: string,
    tokenizer: Tokenizer,
  ) {
    this.template = new Template(source)
    const token = (id: number | null) => (id === null ? '' : (tokenizer.idToToken(id) ?? ''))
    this.specials = { bos_token: token(tokenizer.bos), eos_token: token(tokenizer.eos) }
  }

  /** The whole conversation as text (with the assistant's opening when `generationPrompt`). */
  render(messages: readonly Message[], generationPrompt: boolean): string {
    return this.template.render({
      messages,
      add_generation_prompt: generationPrompt,
      ...this.specials,
    })
  }

  /**
   * The conversation cut into prompt and trained pieces. Each assistant turn is the text the
   * conversation gains from "up to it, with the generation prompt" to "up to and including
   * it" (what the model must produce after the template's own opening); whitespace the
   * template puts after the turn's end token is not trained. A template that rewrites earlier
   * turns when later ones follow (so the pieces would not add up to the whole) is refused.
   */
  pieces(messages: readonly Message[]): RenderedConversation {
    try {
      const whole = this.render(messages, false)
      const pieces: TemplatePiece[] = []
      let done = 0 // characters of `whole` already in pieces
      const take = (end: number, trained: boolean) => {
        if (end > done) pieces.push({ text: whole.slice(done, end), trained })
        done = Math.max(done, end)
      }
      for (let i = 0; i < messages.length; i++) {
        if (messages[i].role !== 'assistant') continue
        const before = this.render(messages.slice(0, i), true)
        const through = this.render(messages.slice(0, i + 1), false)
        if (!through.startsWith(before) || !whole.startsWith(through) || before.length < done)
          return {
            ok: false,
            problem: `The chat template renders turn ${i + 1} differently once later turns follow, so what to train on cannot be told apart.`,
          }
        take(before.length, false)
        const reply = through.slice(before.length)
        take(before.length + reply.trimEnd().length, true)
      }
      take(whole.length, false)
      return { ok: true, pieces }
    } catch (err) {
      return { ok: false, problem: `The chat template does not render: ${(err as Error).message}` }
    }
  }
}

/** A template's own syntax error, as a sentence (checked before a run is created). */
export function templateError(source: string): string | null {
  try {
    new Template(source)
    return null
  } catch (err) {
    return (err as Error).message
  }
}
