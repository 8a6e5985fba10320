/** What a reader yields: a document, or a problem with a record (the rest goes on). */
export type RawRecord =
  | { kind: 'doc'; text: string; source: string; meta: Record<string, unknown> | null }
  | { kind: 'issue'; line: number | null; message: string }

export interface ReaderOptions {
  textField: string | undefined
  /** Bytes read from disk (compressed, for a .gz file). */
  onRead: (bytes: number) => void
  /** Bytes a .gz file decompressed to, as they are decompressed. */
  onDecoded?: (bytes: number) => void
}

/** Fields that usually hold the text, tried in order when the user names none. */
const TEXT_FIELDS = ['text', 'content', 'body', 'document', 'raw_content', 'article', 'passage']

/** The text field: the one asked for, or the first usual name present. */
export function pickTextField(
  fields: readonly string[],
  requested: string | undefined,
): string | null {
  if (requested) return fields.includes(requested) ? requested : null
  return TEXT_FIELDS.find((f) => fields.includes(f)) ?? null
}

export function missingFieldMessage(
  fields: readonly string[],
  requested: string | undefined,
): string {
  const list = fields.slice(0, 20).join(', ')
  return requested
    ? `There is no field "${requested}" (fields: ${list}).`
    : `No text field found (fields: ${list}). Name one with the text field option (--text-field).`
}

/** Every field but the text, as metadata; null when there are none. */
export function metaWithout(
  record: Record<string, unknown>,
  field: string,
): Record<string, unknown> | null {
  return metaWithoutAll(record, [field])
}

/** Every field but these, as metadata; null when there are none. */
export function metaWithoutAll(
  record: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> | null {
  const meta: Record<string, unknown> = {}
  let any = false
  for (const [k, v] of Object.entries(record)) {
    if (fields.includes(k)) continue
    meta[k] = typeof v === 'bigint' ? v.toString() : v
    any = true
  }
  return any ? meta : null
}
