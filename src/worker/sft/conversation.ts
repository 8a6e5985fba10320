/** One turn of a conversation, as Hugging Face chat templates take it. */
export interface Message {
  role: 'system' | 'user' | 'assistant'
  content: string
}

/** A conversation to fine-tune on: what the model is taught to answer is every assistant turn. */
export interface Conversation {
  messages: Message[]
}

const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant'])

/** ShareGPT's role names, mapped to the chat-template ones. */
const SHAREGPT_ROLES: Record<string, Message['role']> = {
  system: 'system',
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
}

/** Field pairs of single-turn records, tried in order: [prompt, response]. */
const PAIR_FIELDS: readonly (readonly [string, string])[] = [
  ['prompt', 'response'],
  ['prompt', 'completion'],
  ['question', 'answer'],
  ['instruction', 'output'],
]

/** A record read as a conversation, or why it cannot be one. */
export type ParsedConversation =
  { ok: true; conversation: Conversation } | { ok: false; problem: string }

/** The fields a conversation is read from (the rest of a record is metadata). */
export const CONVERSATION_FIELDS: readonly string[] = [
  'messages',
  'conversations',
  'system',
  'input',
  ...new Set(PAIR_FIELDS.flat()),
]

const fail = (problem: string): ParsedConversation => ({ ok: false, problem })

/**
 * A conversation from a JSON record in one of the layouts fine-tuning data comes in:
 * `{"messages": [{"role", "content"}, ...]}` (OpenAI, Hugging Face), ShareGPT's
 * `{"conversations": [{"from", "value"}, ...]}`, or one exchange as prompt/response,
 * prompt/completion, question/answer or Alpaca's instruction/input/output (the input, when
 * present, follows the instruction after a blank line) with an optional `system`.
 * A usable conversation has at least one assistant turn with text, and no empty turn.
 */
export function parseConversation(record: unknown): ParsedConversation {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return fail('Not a JSON object.')
  const r = record as Record<string, unknown>
  if ('messages' in r) return checked(messagesOf(r.messages, 'role', 'content', null))
  if ('conversations' in r)
    return checked(messagesOf(r.conversations, 'from', 'value', SHAREGPT_ROLES))
  for (const [promptField, responseField] of PAIR_FIELDS) {
    if (!(promptField in r) || !(responseField in r)) continue
    const prompt = r[promptField]
    const response = r[responseField]
    const input = promptField === 'instruction' ? r.input : undefined
    if (typeof prompt !== 'string') return fail(`"${promptField}" is not a string.`)
    if (typeof response !== 'string') return fail(`"${responseField}" is not a string.`)
    if (input !== undefined && input !== null && typeof input !== 'string')
      return fail('"input" is not a string.')
    const system = r.system
    if (system !== undefined && system !== null && typeof system !== 'string')
      return fail('"system" is not a string.')
    const user = typeof input === 'string' && input.trim() !== '' ? `${prompt}\n\n${input}` : prompt
    return checked([
      ...(typeof system === 'string' && system.trim() !== ''
        ? [{ role: 'system' as const, content: system }]
        : []),
      { role: 'user', content: user },
      { role: 'assistant', content: response },
    ])
  }
  return fail(
    'Not a conversation: expected "messages" (role and content), "conversations" (from and value), or prompt and response fields.',
  )
}

function messagesOf(
  value: unknown,
  roleField: string,
  textField: string,
  roleNames: Record<string, Message['role']> | null,
): Message[] | string {
  if (!Array.isArray(value))
    return `"${roleField === 'role' ? 'messages' : 'conversations'}" is not a list.`
  const messages: Message[] = []
  for (const [i, m] of value.entries()) {
    if (typeof m !== 'object' || m === null) return `Turn ${i + 1} is not an object.`
    const turn = m as Record<string, unknown>
    const rawRole = turn[roleField]
    const role =
      typeof rawRole === 'string' ? (roleNames ? roleNames[rawRole] : rawRole) : undefined
    if (!role || !ROLES.has(role))
      return `Turn ${i + 1} has the role ${JSON.stringify(rawRole ?? null)}; expected ${roleNames ? Object.keys(roleNames).join(', ') : 'system, user or assistant'}.`
    const content = turn[textField]
    if (typeof content !== 'string') return `Turn ${i + 1} has no text ("${textField}").`
    messages.push({ role: role as Message['role'], content })
  }
  return messages
}

function checked(messages: Message[] | string): ParsedConversation {
  if (typeof messages === 'string') return fail(messages)
  if (!messages.some((m) => m.role === 'assistant')) return fail('No assistant turn to learn from.')
  const empty = messages.findIndex((m) => m.content.trim() === '')
  if (empty >= 0) return fail(`Turn ${empty + 1} (${messages[empty].role}) is empty.`)
  return { ok: true, conversation: { messages } }
}
