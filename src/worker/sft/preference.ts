import { parseConversation, type Message } from './conversation'

/**
 * One preference: a prompt and two replies, the better first. `chat` pairs are a
 * conversation whose next assistant turn is one of the replies (rendered with the chat
 * template); `text` pairs are plain text continued by either reply (TRL's "standard" layout,
 * and an A/B comparison made without chat).
 */
export type PreferencePair =
  | { format: 'chat'; prompt: Message[]; chosen: string; rejected: string }
  | { format: 'text'; prompt: string; chosen: string; rejected: string }

export type ParsedPreference = { ok: true; pair: PreferencePair } | { ok: false; problem: string }

/** The fields a preference is read from (the rest of a record is metadata). */
export const PREFERENCE_FIELDS: readonly string[] = ['prompt', 'chosen', 'rejected']

const fail = (problem: string): ParsedPreference => ({ ok: false, problem })

/**
 * A preference from a JSON record in TRL's layouts: `{"prompt", "chosen", "rejected"}` with
 * strings (plain text), or with the prompt a list of messages and each reply a string or a
 * list holding one assistant message (a conversation); or without a prompt, `chosen` and
 * `rejected` two whole conversations that differ only in their last (assistant) turn.
 */
export function parsePreference(record: unknown): ParsedPreference {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return fail('Not a JSON object.')
  const r = record as Record<string, unknown>
  if (!('chosen' in r) || !('rejected' in r))
    return fail('Not a preference: expected "chosen" and "rejected" (and a "prompt").')
  let pair: PreferencePair
  if (!('prompt' in r)) {
    const c = conversation(r.chosen, 'chosen')
    const j = conversation(r.rejected, 'rejected')
    if (typeof c === 'string') return fail(c)
    if (typeof j === 'string') return fail(j)
    const prompt = c.slice(0, -1)
    if (JSON.stringify(prompt) !== JSON.stringify(j.slice(0, -1)))
      return fail('"chosen" and "rejected" have different prompts (all turns but the last).')
    if (c.at(-1)!.role !== 'assistant') return fail('"chosen" does not end with an assistant turn.')
    if (j.at(-1)!.role !== 'assistant')
      return fail('"rejected" does not end with an assistant turn.')
    pair = { format: 'chat', prompt, chosen: c.at(-1)!.content, rejected: j.at(-1)!.content }
  } else if (typeof r.prompt === 'string') {
    if (typeof r.chosen !== 'string' || typeof r.rejected !== 'string')
      return fail('With a text prompt, "chosen" and "rejected" must be text too.')
    pair = { format: 'text', prompt: r.prompt, chosen: r.chosen, rejected: r.rejected }
  } else {
    const prompt = messagesOf(r.prompt)
    if (typeof prompt === 'string') return fail(prompt)
    const chosen = reply(r.chosen)
    const rejected = reply(r.rejected)
    if (chosen === null) return fail(`"chosen" is neither text nor one assistant message.`)
    if (rejected === null) return fail(`"rejected" is neither text nor one assistant message.`)
    pair = { format: 'chat', prompt, chosen, rejected }
  }
  if (pair.chosen.trim() === '' || pair.rejected.trim() === '')
    return fail(`"${pair.chosen.trim() === '' ? 'chosen' : 'rejected'}" is empty.`)
  if (pair.chosen === pair.rejected) return fail('"chosen" and "rejected" are the same.')
  if (pair.format === 'text' ? pair.prompt.trim() === '' : pair.prompt.length === 0)
    return fail('The prompt is empty.')
  return { ok: true, pair }
}

/** A list of messages (the prompt of a conversational pair). */
function messagesOf(value: unknown): Message[] | string {
  const turns: unknown[] = Array.isArray(value) ? value : [value]
  // Checked as a conversation with a stand-in reply (a prompt has none of its own).
  const parsed = parseConversation({
    messages: [...turns, { role: 'assistant', content: '.' }],
  })
  if (!parsed.ok) return `"prompt": ${parsed.problem}`
  return parsed.conversation.messages.slice(0, -1)
}

/** A whole conversation ("chosen"/"rejected" without a prompt). */
function conversation(value: unknown, field: string): Message[] | string {
  const parsed = parseConversation({ messages: value })
  return parsed.ok ? parsed.conversation.messages : `"${field}": ${parsed.problem}`
}

/** A reply's text: a string, or a list of one assistant message; null otherwise. */
function reply(value: unknown): string | null {
  if (typeof value === 'string') return value
  const one: unknown = Array.isArray(value) && value.length === 1 ? value[0] : null
  if (typeof one !== 'object' || one === null) return null
  const { role, content } = one as { role?: unknown; content?: unknown }
  return role === 'assistant' && typeof content === 'string' ? content : null
}
