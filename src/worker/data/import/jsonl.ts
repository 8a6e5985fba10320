import { readLines, TOO_LONG_MESSAGE } from './lines'
import {
  metaWithout,
  metaWithoutAll,
  missingFieldMessage,
  pickTextField,
  type RawRecord,
  type ReaderOptions,
} from './records'
import { openBytes, type SourceFile } from './sources'
import { CONVERSATION_FIELDS, parseConversation } from '../../sft/conversation'
import { parsePreference, PREFERENCE_FIELDS } from '../../sft/preference'
import { binaryGuard } from './text'

/**
 * JSON Lines: one object per line; the text field becomes the document, the rest metadata.
 * A file without a text field whose first record is a conversation (`messages`,
 * ShareGPT's `conversations`, prompt/response and the like: see parseConversation) is read
 * as conversations for fine-tuning: each document is the conversation as
 * `{"messages": [...]}`, every turn kept. One whose first record is a preference
 * (`prompt`, `chosen`, `rejected`: see parsePreference) is read as preference pairs, each
 * document `{"format", "prompt", "chosen", "rejected"}`.
 */
export async function* readJsonl(file: SourceFile, opts: ReaderOptions): AsyncGenerator<RawRecord> {
  let field: string | null = null
  /** Records read as conversations or preference pairs instead of text. */
  let structured: 'conversation' | 'preference' | null = null
  for await (const line of readLines(binaryGuard(openBytes(file, opts.onRead, opts.onDecoded)))) {
    if (line.text === null) {
      const message = line.tooLong ? TOO_LONG_MESSAGE : 'Invalid UTF-8: line skipped.'
      yield { kind: 'issue', line: line.number, message }
      continue
    }
    const raw = line.number === 1 ? line.text.replace(/^\uFEFF/, '') : line.text
    if (raw.trim() === '') continue
    let record: unknown
    try {
      record = JSON.parse(raw)
    } catch (err) {
      yield { kind: 'issue', line: line.number, message: `Bad JSON: ${(err as Error).message}` }
      continue
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      yield { kind: 'issue', line: line.number, message: 'Not a JSON object.' }
      continue
    }
    const obj = record as Record<string, unknown>
    if (field === null && structured === null) {
      field = pickTextField(Object.keys(obj), opts.textField)
      if (field === null && !opts.textField)
        structured = parseConversation(obj).ok
          ? 'conversation'
          : parsePreference(obj).ok
            ? 'preference'
            : null
    }
    if (structured !== null) {
      const parsed = structured === 'conversation' ? parseConversation(obj) : parsePreference(obj)
      if (!parsed.ok) {
        yield { kind: 'issue', line: line.number, message: parsed.problem }
        continue
      }
      yield {
        kind: 'doc',
        text: JSON.stringify('conversation' in parsed ? parsed.conversation : parsed.pair),
        source: `${file.path}:${line.number}`,
        meta: metaWithoutAll(
          obj,
          structured === 'conversation' ? CONVERSATION_FIELDS : PREFERENCE_FIELDS,
        ),
      }
      continue
    }
    if (field === null) {
      // Without a text field no line of this file can import: say so once.
      yield {
        kind: 'issue',
        line: line.number,
        message: missingFieldMessage(Object.keys(obj), opts.textField),
      }
      return
    }
    const text = obj[field]
    if (typeof text !== 'string') {
      yield {
        kind: 'issue',
        line: line.number,
        message: text === undefined ? `No "${field}" field.` : `"${field}" is not a string.`,
      }
      continue
    }
    if (text.trim() === '') {
      yield { kind: 'issue', line: line.number, message: `Empty "${field}".` }
      continue
    }
    yield {
      kind: 'doc',
      text,
      source: `${file.path}:${line.number}`,
      meta: metaWithout(obj, field),
    }
  }
}
