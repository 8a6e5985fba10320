import type { Store } from '../../../store'
import { isProcessAlive } from '../../../store/process-alive'
import type { ImportedDocument } from '../../../store/repos/documents'
import type { ImportFormat, ImportIssue, ImportReport } from '../../../shared/data/types'
import { UserError } from '../../../shared/errors'
import { formatBytes } from '../../../shared/format'
import type { JobProgress } from '../../../shared/jobs'
import { openFileReaders } from './reader-threads'
import { collectFiles } from './sources'

export interface ImportRequest {
  dataset: string
  paths: string[]
  format: ImportFormat
  textField?: string | undefined
}

export interface ImportDeps {
  store: Store
  jobId: string
  signal: AbortSignal
  progress: (p: JobProgress) => void
  throwIfCancelled: () => void
  now?: () => Date
  /** Reader threads (0: read on this thread); by default one per core for large imports. */
  threads?: number
}

/** Documents per transaction, and the text size that also ends a batch. */
const BATCH_DOCS = 2000
const BATCH_CHARS = 8 * 1024 * 1024
/** Issues listed in the report; all are counted. */
const MAX_LISTED_ISSUES = 1000
const PROGRESS_INTERVAL_MS = 200

/**
 * Stream files into a dataset. Files are read and parsed in chunks (on reader threads
 * for large imports, reader-threads.ts) and written here in batches, so memory stays
 * flat; malformed records are reported with file and line and skipped.
 * The import is provisional until the end: if it is cancelled or fails, everything it
 * added is deleted (and the dataset too, when this import created it).
 */
export async function runImport(request: ImportRequest, deps: ImportDeps): Promise<ImportReport> {
  const { store } = deps
  const now = () => (deps.now ?? (() => new Date()))().toISOString()
  const issues: ImportIssue[] = []
  let skipped = 0
  const report = (issue: ImportIssue) => {
    skipped++
    if (issues.length < MAX_LISTED_ISSUES) issues.push(issue)
  }

  const files = await collectFiles(request.paths, request.format, report)
  if (files.length === 0) throw new UserError('invalid_params', noFilesMessage(issues), 'paths')
  const totalBytes = files.reduce((n, f) => n + f.size, 0)

  store.imports.abandonOrphans(isProcessAlive)
  const { datasetId, name } = openDataset(store, request.dataset, now())
  const importId = store.imports.begin(
    datasetId,
    deps.jobId,
    process.pid,
    { paths: request.paths, format: request.format, textField: request.textField },
    now(),
  )

  let bytesRead = 0
  let imported = 0
  let lastProgress = 0
  let currentFile = ''
  /** Bytes the current .gz file has decompressed to (0 for a plain file). */
  let decoded = 0
  let batch: ImportedDocument[] = []
  let batchChars = 0
  const progress = (force = false) => {
    const t = Date.now()
    if (!force && t - lastProgress < PROGRESS_INTERVAL_MS) return
    lastProgress = t
    deps.progress({
      done: Math.min(bytesRead, totalBytes),
      total: totalBytes,
      unit: 'bytes',
      message: currentFile
        ? `Importing ${currentFile}${decoded > 0 ? ` (${formatBytes(decoded)} uncompressed)` : ''}`
        : 'Importing',
      // Read so far, the batch not yet written included: a batch of web pages takes a while.
      metrics: { documents: imported + batch.length, skipped },
    })
  }

  try {
    const flush = () => {
      if (batch.length === 0) return
      deps.throwIfCancelled()
      store.documents.insert(datasetId, importId, batch)
      imported += batch.length
      batch = []
      batchChars = 0
    }
    progress(true)
    const readers = openFileReaders(files, request.textField, deps.threads)
    try {
      for (const [index, file] of files.entries()) {
        currentFile = file.path
        decoded = 0
        const startBytes = bytesRead
        deps.throwIfCancelled()
        for await (const chunk of readers.chunks(index)) {
          deps.throwIfCancelled()
          for (const record of chunk.records) {
            if (record.kind === 'issue') {
              report({ file: file.path, line: record.line, message: record.message })
              continue
            }
            batch.push(record)
            batchChars += record.charCount
            if (batch.length >= BATCH_DOCS || batchChars >= BATCH_CHARS) {
              flush()
              progress()
            }
          }
          bytesRead = startBytes + chunk.bytesRead
          decoded = chunk.bytesDecoded
          // A file that cannot be read to its end (corrupt gzip, vanished, binary) is
          // reported; what came before imports, and the rest goes on.
          if (chunk.fileError) report({ file: file.path, line: null, message: chunk.fileError })
          progress()
        }
        // Count the whole file as read even when a reader stopped early.
        bytesRead = startBytes + file.size
        progress()
      }
    } finally {
      await readers.close()
    }
    flush()
    deps.throwIfCancelled()
    const result: ImportReport = {
      dataset: name,
      datasetId,
      imported,
      skipped,
      files: files.length,
      bytes: totalBytes,
      errors: issues,
    }
    if (imported === 0 && store.documents.count(datasetId) === 0) {
      throw new UserError(
        'invalid_params',
        `Nothing could be imported. ${describeIssues(issues, skipped)}`,
        'paths',
      )
    }
    store.imports.finish(importId, result, now())
    progress(true)
    return result
  } catch (err) {
    store.imports.abandon(importId)
    throw err
  }
}

/** The dataset to import into: an existing one (append), or a new one, hidden until done. */
function openDataset(
  store: Store,
  requested: string,
  now: string,
): { datasetId: number; name: string } {
  const name = requested.trim()
  const existing = store.datasets.stateByName(name)
  if (existing) {
    if (existing.state === 'importing' || store.imports.running(existing.id))
      throw new UserError(
        'conflict',
        `"${name}" is being imported right now. Wait for that import to finish.`,
        'dataset',
      )
    if (store.cleanRuns.running(existing.id))
      throw new UserError(
        'conflict',
        `"${name}" is being cleaned right now. Import after the cleaning finishes.`,
        'dataset',
      )
    return { datasetId: existing.id, name }
  }
  const id = store.datasets.create(name, now)
  store.datasets.markImporting(id)
  return { datasetId: id, name }
}

function describeIssues(issues: readonly ImportIssue[], skipped: number): string {
  const first = issues
    .slice(0, 3)
    .map((i) => `${i.file}${i.line ? `:${i.line}` : ''}: ${i.message}`)
    .join('; ')
  return skipped ? `${skipped} problems, e.g. ${first}` : 'The files hold no documents.'
}

function noFilesMessage(issues: readonly ImportIssue[]): string {
  return issues.length
    ? `No importable files: ${describeIssues(issues, issues.length)}`
    : 'The folder holds no files to import.'
}
