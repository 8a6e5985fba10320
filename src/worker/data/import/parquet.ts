import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import {
  metaWithout,
  missingFieldMessage,
  pickTextField,
  type RawRecord,
  type ReaderOptions,
} from './records'
import { openBytes, type SourceFile } from './sources'

/**
 * Parquet, one row group at a time (memory bounded by the largest row group). Parquet
 * needs random access, so a .parquet.gz is first decompressed to a temporary file.
 */
export async function* readParquet(
  file: SourceFile,
  opts: ReaderOptions,
): AsyncGenerator<RawRecord> {
  let path = file.path
  let temp: string | null = null
  try {
    if (file.gzip) {
      temp = join(tmpdir(), `frugal-import-${randomUUID()}.parquet`)
      await pipeline(openBytes(file, opts.onRead), createWriteStream(temp))
      path = temp
    }
    const buffer = await asyncBufferFromFile(path)
    let metadata
    try {
      metadata = await parquetMetadataAsync(buffer)
    } catch (err) {
      yield {
        kind: 'issue',
        line: null,
        message: `Not a readable Parquet file: ${(err as Error).message}`,
      }
      return
    }
    const fields = metadata.schema.slice(1).map((s) => s.name)
    const field = pickTextField(fields, opts.textField)
    if (field === null) {
      yield { kind: 'issue', line: null, message: missingFieldMessage(fields, opts.textField) }
      return
    }
    let rowStart = 0
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows)
      let rows: Record<string, unknown>[]
      try {
        rows = (await parquetReadObjects({
          file: buffer,
          metadata,
          rowStart,
          rowEnd,
          compressors,
        })) as Record<string, unknown>[]
      } catch (err) {
        yield {
          kind: 'issue',
          line: rowStart + 1,
          message: `Unreadable row group (rows ${rowStart + 1}-${rowEnd}): ${(err as Error).message}`,
        }
        rowStart = rowEnd
        continue
      }
      // Progress in file bytes, shared out by rows (a gzip file counted them while copying).
      if (!file.gzip)
        opts.onRead(
          Math.round((file.size * Number(group.num_rows)) / Math.max(1, Number(metadata.num_rows))),
        )
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]
        const text = row[field]
        const rowNumber = rowStart + i + 1
        if (typeof text !== 'string' || text.trim() === '') {
          yield {
            kind: 'issue',
            line: rowNumber,
            message: `Row ${rowNumber}: "${field}" is empty or not text.`,
          }
          continue
        }
        yield {
          kind: 'doc',
          text,
          source: `${file.path}#${rowNumber}`,
          meta: metaWithout(row, field),
        }
      }
      rowStart = rowEnd
    }
  } finally {
    if (temp) await rm(temp, { force: true })
  }
}
