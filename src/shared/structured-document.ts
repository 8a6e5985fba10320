/**
 * What a document of a fine-tuning dataset holds, for display: the importer stores a
 * conversation as `{"messages": [...]}` and a preference pair as `{"prompt", "chosen",
 * "rejected"}` (src/worker/sft). Null for plain text or anything else. Display only: the
 * training engine parses documents itself, with its checks.
 */
export type StructuredDocument =
  | { kind: 'conversation'; turns: Turn[] }
  | { kind: 'preference'; prompt: Turn[]; chosen: string; rejected: string }

export interface Turn {
  role: string
  content: string
}

export function structuredDocument(text: string): StructuredDocument | null {
  if (!text.startsWith('{')) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const v = value as Record<string, unknown>
  const turns = (list: unknown): Turn[] | null =>
    Array.isArray(list) &&
    list.every(
      (m: unknown) =>
        typeof m === 'object' &&
        m !== null &&
        typeof (m as Turn).role === 'string' &&
        typeof (m as Turn).content === 'string',
    )
      ? (list as Turn[])
      : null
  const messages = turns(v.messages)
  if (messages) return { kind: 'conversation', turns: messages }
  if (typeof v.chosen === 'string' && typeof v.rejected === 'string') {
    const prompt =
      typeof v.prompt === 'string' ? [{ role: 'user', content: v.prompt }] : turns(v.prompt)
    if (prompt) return { kind: 'preference', prompt, chosen: v.chosen, rejected: v.rejected }
  }
  return null
}

/**
 * A one-line preview of a conversation or preference document from the start of its
 * stored JSON (which a list may have cut anywhere): its kind and first turn's text. Null
 * for plain text.
 */
export function structuredPreview(preview: string): string | null {
  const kind = preview.startsWith('{"messages":')
    ? 'Conversation'
    : /^\{"format":"(chat|text)","prompt":/.test(preview)
      ? 'Preference pair'
      : null
  if (!kind) return null
  const first = /"(?:content|prompt)":"((?:[^"\\]|\\.)*)/.exec(preview)?.[1] ?? ''
  let text = first
  try {
    text = JSON.parse(`"${first}"`) as string
  } catch {
    // Cut inside an escape: show it as stored.
  }
  return text ? `${kind}: ${text}` : kind
}
