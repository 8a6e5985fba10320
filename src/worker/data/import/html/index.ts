import { isUtf8 } from 'node:buffer'
import type { RawRecord, ReaderOptions } from '../records'
import type { SourceFile } from '../sources'
import { MAX_WHOLE_FILE_BYTES, readWhole } from '../text'
import { looksBinary } from '../lines'
import { extractMainContent } from './main-content'

export { extractMainContent, type ExtractedPage } from './main-content'

/** One document per HTML page: its main content, with the title first. */
export async function* readHtml(file: SourceFile, opts: ReaderOptions): AsyncGenerator<RawRecord> {
  if (file.size > MAX_WHOLE_FILE_BYTES) {
    yield { kind: 'issue', line: null, message: 'HTML file too large to parse (over 64 MB).' }
    return
  }
  const bytes = await readWhole(file, opts.onRead)
  if (looksBinary(bytes)) {
    yield { kind: 'issue', line: null, message: 'Binary file (contains NUL bytes): not HTML.' }
    return
  }
  // Pages in legacy encodings are read as Latin-1 rather than refused.
  const html = isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1')
  const page = extractMainContent(html)
  if (page.text.trim() === '') {
    yield { kind: 'issue', line: null, message: 'No readable text in this page.' }
    return
  }
  yield {
    kind: 'doc',
    text: page.text,
    source: file.path,
    meta: { ...(page.title ? { title: page.title } : {}), extraction: page.method },
  }
}
