import { parse, type CsvError } from 'csv-parse'
import { Readable } from 'node:stream'
import { readLines, TOO_LONG_MESSAGE } from './lines'
import {
  metaWithout,
  missingFieldMessage,
  pickTextField,
  type RawRecord,
  type ReaderOptions,
} from './records'
import { openBytes, type SourceFile } from './sources'
import { binaryGuard } from './text'

/**
 * CSV (TSV for .tsv) with a header row; the text column becomes the document, the other
 * columns metadata. Lines that are not valid UTF-8 are reported and blanked before the
 * parser sees them, so line numbers stay right; malformed rows are reported and skipped.
 */
export async function* readCsv(file: SourceFile, opts: ReaderOptions): AsyncGenerator<RawRecord> {
  const issues: RawRecord[] = []
  async function* validated(): AsyncGenerator<string> {
    for await (const line of readLines(binaryGuard(openBytes(file, opts.onRead, opts.onDecoded)))) {
      if (line.text === null) {
        const message = line.tooLong ? TOO_LONG_MESSAGE : 'Invalid UTF-8: line skipped.'
        issues.push({ kind: 'issue', line: line.number, message })
        yield '\n'
      } else yield `${line.text}\n`
    }
  }
  const delimiter = /\.tsv(\.gz)?$/i.test(file.path) ? '\t' : ','
  const parser = Readable.from(validated()).pipe(
    parse({
      columns: true,
      bom: true,
      delimiter,
      skip_empty_lines: true,
      skip_records_with_error: true,
      relax_column_count: false,
      info: true,
    }),
  )
  parser.on('skip', (err: CsvError) =>
    issues.push({
      kind: 'issue',
      line: Number(err.lines) || null,
      message: `Malformed CSV row: ${err.message}`,
    }),
  )
  let field: string | null | undefined
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>
    info: { lines: number }
  }>) {
    while (issues.length) yield issues.shift()!
    if (field === undefined) {
      field = pickTextField(Object.keys(record), opts.textField)
      if (field === null) {
        yield {
          kind: 'issue',
          line: 1,
          message: missingFieldMessage(Object.keys(record), opts.textField),
        }
        parser.destroy()
        return
      }
    }
    const text = record[field!] ?? ''
    if (text.trim() === '') {
      yield { kind: 'issue', line: info.lines, message: `Empty "${field}".` }
      continue
    }
    yield {
      kind: 'doc',
      text,
      source: `${file.path}:${info.lines}`,
      meta: metaWithout(record, field!),
    }
  }
  while (issues.length) yield issues.shift()!
}
