import { createReadStream, type Dirent } from 'node:fs'
import { opendir, realpath, stat } from 'node:fs/promises'
import { extname, join, relative, isAbsolute } from 'node:path'
import { Readable, pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { ImportFormat, ImportIssue } from '../../../shared/data/types'
import { UserError } from '../../../shared/errors'

/** A file format a reader handles ('auto' resolved per file). */
export type FileFormat = Exclude<ImportFormat, 'auto'>

export interface SourceFile {
  path: string
  size: number
  gzip: boolean
  format: FileFormat
}

const byExtension: Record<string, FileFormat> = {
  '.txt': 'txt',
  '.text': 'txt',
  '.md': 'txt',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.parquet': 'parquet',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
}

/** The format a file's name suggests (".gz" looked through), or null. */
export function formatOf(path: string): { format: FileFormat | null; gzip: boolean } {
  const gzip = path.toLowerCase().endsWith('.gz')
  const name = gzip ? path.slice(0, -3) : path
  return { format: byExtension[extname(name).toLowerCase()] ?? null, gzip }
}

/**
 * The files to import: each path as given, folders walked recursively in name order
 * (hidden files and folders skipped). With format 'auto', files whose extension is not
 * a known format are reported and skipped; a chosen format applies to every file.
 *
 * A folder's links are followed only while they stay inside it: a downloaded corpus
 * holding `notes.txt -> ~/.ssh/id_rsa` must not import the key (and carry it on into
 * exports and a trained model). A link whose real path leaves the chosen folder is
 * skipped and reported with where it leads; a path the user named directly is theirs.
 */
export async function collectFiles(
  paths: readonly string[],
  format: ImportFormat,
  issues: (issue: ImportIssue) => void,
): Promise<SourceFile[]> {
  const files: SourceFile[] = []
  const add = (path: string, size: number, explicit: boolean) => {
    const detected = formatOf(path)
    const chosen = format === 'auto' ? detected.format : format
    if (!chosen) {
      issues({
        file: path,
        line: null,
        message: explicit
          ? 'Unknown file type: choose a format (txt, txt-blocks, jsonl, csv, parquet, html).'
          : 'Skipped: not a supported file type.',
      })
      return
    }
    files.push({ path, size, gzip: detected.gzip, format: chosen })
  }
  for (const path of paths) {
    let info
    try {
      info = await stat(path)
    } catch {
      throw new UserError('not_found', `There is no file or folder at ${path}.`, 'paths')
    }
    if (info.isDirectory()) {
      const root = await realpath(path)
      for await (const file of walk(path, root, root, new Set([root]), issues))
        add(file.path, file.size, false)
    } else add(path, info.size, true)
  }
  return files
}

const inside = (root: string, path: string) => {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * Files under `dir` (whose real path is `real`); `root` is the real path of the folder the
 * user chose, `seen` the real paths of the folders walked so far (a link back up would
 * loop forever, and a link to a folder walked anyway would import it twice).
 */
async function* walk(
  dir: string,
  real: string,
  root: string,
  seen: Set<string>,
  issues: (issue: ImportIssue) => void,
): AsyncGenerator<{ path: string; size: number }> {
  const entries: Dirent[] = []
  for await (const entry of await opendir(dir)) entries.push(entry)
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      const sub = join(real, entry.name)
      if (seen.has(sub)) continue
      seen.add(sub)
      yield* walk(path, sub, root, seen, issues)
      continue
    }
    if (!entry.isFile() && !entry.isSymbolicLink()) continue
    let target = join(real, entry.name)
    if (entry.isSymbolicLink()) {
      const resolved = await realpath(path).catch(() => null)
      if (resolved === null) {
        issues({ file: path, line: null, message: 'Skipped: a link to nothing (broken link).' })
        continue
      }
      if (!inside(root, resolved)) {
        issues({
          file: path,
          line: null,
          message: `Skipped: a link that leads outside the chosen folder (to ${resolved}).`,
        })
        continue
      }
      target = resolved
    }
    const info = await stat(target).catch(() => null)
    if (info?.isFile()) yield { path, size: info.size }
    else if (info?.isDirectory() && !seen.has(target)) {
      seen.add(target)
      yield* walk(path, target, root, seen, issues)
    }
  }
}

/**
 * A file's bytes, decompressed if gzipped. `onRead` counts bytes read from disk
 * (compressed), which is what the progress bar measures; `onDecoded` what they expand to
 * (a small .gz can hold gigabytes, read long after its last compressed byte).
 */
export function openBytes(
  file: SourceFile,
  onRead: (bytes: number) => void,
  onDecoded?: (bytes: number) => void,
): AsyncIterable<Buffer> {
  const raw = counted(createReadStream(file.path, { highWaterMark: 1 << 20 }), onRead)
  if (!file.gzip) return raw
  // pipeline() carries a read error or corrupt gzip data to the consumer's loop.
  const inflated = pipeline(Readable.from(raw), createGunzip(), () => undefined)
  return onDecoded ? counted(inflated as AsyncIterable<Buffer>, onDecoded) : inflated
}

async function* counted(
  chunks: AsyncIterable<Buffer>,
  onRead: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    onRead(chunk.length)
    yield chunk
  }
}
