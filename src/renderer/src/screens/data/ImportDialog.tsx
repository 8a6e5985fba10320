import { FileUp, FolderOpen, Plus, Trash2, UploadCloud } from 'lucide-react'
import { useId, useRef, useState, type DragEvent, type FormEvent } from 'react'
import { ApiCallError, call, useApiQuery, useTransport } from '../../api/client'
import { Button } from '../../components/Button'
import { Dialog } from '../../components/Dialog'
import { Notice } from '../../components/Notice'
import { ProgressBar } from '../../components/ProgressBar'
import { formatBytes } from '../../format'
import { importFormats, type ImportFormat } from '../../../../shared/data/types'
import type { JobRecord } from '../../../../shared/jobs'

/** A file from the user's machine (dropped or picked), or a path typed on the server. */
type Source =
  | { key: string; kind: 'file'; file: File; name: string; size: number; folder: boolean }
  | { key: string; kind: 'path'; path: string; name: string }

const ACCEPT = '.txt,.text,.md,.jsonl,.ndjson,.csv,.tsv,.parquet,.html,.htm,.gz'
const formatLabels: Record<ImportFormat, string> = {
  auto: 'Detect by extension',
  txt: 'Text, a document per file',
  'txt-blocks': 'Text, a document per block',
  jsonl: 'JSON Lines',
  csv: 'CSV / TSV',
  parquet: 'Parquet',
  html: 'HTML page (main content)',
}

let nextKey = 0

/** "web-crawl.jsonl.gz" → "web-crawl": a dataset name from the first file. */
function nameFrom(source: Source | undefined): string {
  if (!source) return ''
  const base = source.name.split(/[\\/]/).filter(Boolean).pop() ?? ''
  return base.replace(/(\.gz)?$/i, '').replace(/\.[a-z0-9]+$/i, '')
}

interface ImportDialogProps {
  open: boolean
  onClose: () => void
  /** Files dropped on the screen before the dialog opened. */
  initialFiles: { file: File; folder: boolean }[]
  onStarted: (job: JobRecord) => void
}

export function ImportDialog(props: ImportDialogProps) {
  return (
    <Dialog open={props.open} title="Import data" onClose={props.onClose}>
      <ImportForm {...props} />
    </Dialog>
  )
}

function ImportForm({ onClose, initialFiles, onStarted }: ImportDialogProps) {
  const transport = useTransport()
  const { data: info } = useApiQuery('system.info', {})
  const { data: datasets } = useApiQuery('datasets.list', {})
  const [sources, setSources] = useState<Source[]>(() =>
    initialFiles.map(({ file, folder }) => ({
      key: String(nextKey++),
      kind: 'file',
      file,
      name: file.name,
      size: file.size,
      folder,
    })),
  )
  const [dataset, setDataset] = useState(() => nameFrom(sources[0]))
  const [format, setFormat] = useState<ImportFormat>('auto')
  const [textField, setTextField] = useState('')
  const [typedPath, setTypedPath] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [upload, setUpload] = useState<{ name: string; sent: number; total: number } | null>(null)
  const [busy, setBusy] = useState(false)
  const [dragging, setDragging] = useState(false)
  const abort = useRef<AbortController | null>(null)
  const fileInput = useRef<HTMLInputElement>(null)
  const ids = { dataset: useId(), format: useId(), field: useId(), path: useId(), list: useId() }
  const serve = info?.mode === 'serve'

  const add = (next: Source[]) => {
    setError(null)
    if (!dataset.trim()) setDataset(nameFrom(sources[0] ?? next[0]))
    setSources((current) => [...current, ...next])
  }
  const addFiles = (files: { file: File; folder: boolean }[]) =>
    add(
      files.map(({ file, folder }) => ({
        key: String(nextKey++),
        kind: 'file',
        file,
        name: file.name,
        size: file.size,
        folder,
      })),
    )
  const addPath = () => {
    const path = typedPath.trim()
    if (!path) return
    add([{ key: String(nextKey++), kind: 'path', path, name: path }])
    setTypedPath('')
  }

  const onDrop = (event: DragEvent) => {
    event.preventDefault()
    setDragging(false)
    addFiles(droppedFiles(event))
  }

  const browse = async () => {
    try {
      const picked = await call(transport, 'system.pickPath', { purpose: 'importData' })
      if (picked) add([{ key: String(nextKey++), kind: 'path', path: picked, name: picked }])
    } catch (err) {
      setError(err instanceof ApiCallError ? err.message : String(err))
    }
  }

  const folderInBrowser = serve && sources.some((s) => s.kind === 'file' && s.folder)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    setBusy(true)
    abort.current = new AbortController()
    try {
      const paths: string[] = []
      for (const s of sources) {
        if (s.kind === 'path') {
          paths.push(s.path)
          continue
        }
        setUpload({ name: s.name, sent: 0, total: s.size })
        paths.push(
          await transport.fileToPath(
            s.file,
            (sent, total) => setUpload({ name: s.name, sent, total }),
            abort.current.signal,
          ),
        )
      }
      setUpload(null)
      const job = await call(transport, 'data.import', {
        dataset: dataset.trim(),
        paths,
        format,
        ...(textField.trim() ? { textField: textField.trim() } : {}),
      })
      onStarted(job)
      onClose()
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') setError('Upload cancelled.')
      else setError(err instanceof Error ? err.message : String(err))
      setUpload(null)
    } finally {
      setBusy(false)
    }
  }

  const needsField =
    format === 'jsonl' || format === 'csv' || format === 'parquet' || format === 'auto'

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} aria-label="Import data">
      <div
        className="drop-zone"
        data-dragging={dragging}
        onDragOver={(e) => {
          e.preventDefault()
          setDragging(true)
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <UploadCloud size={22} aria-hidden />
        <p>
          Drop files or folders here: .txt, .jsonl, .csv, .parquet, .html, or .gz of any of these.
        </p>
        <div className="row">
          <Button icon={<FileUp size={14} />} onClick={() => fileInput.current?.click()}>
            Choose files…
          </Button>
          {info?.nativeDialogs && (
            <Button icon={<FolderOpen size={14} />} onClick={() => void browse()}>
              Choose a file or folder…
            </Button>
          )}
        </div>
        <input
          ref={fileInput}
          type="file"
          multiple
          accept={ACCEPT}
          className="visually-hidden"
          tabIndex={-1}
          aria-label="Files to import"
          onChange={(e) => {
            addFiles([...(e.target.files ?? [])].map((file) => ({ file, folder: false })))
            e.target.value = ''
          }}
        />
      </div>

      <div className="field">
        <label htmlFor={ids.path}>
          {serve ? 'Or a file or folder on the server' : 'Or a path'}
        </label>
        <div className="row" style={{ flexWrap: 'nowrap' }}>
          <input
            id={ids.path}
            className="input mono"
            style={{ flex: 1 }}
            value={typedPath}
            placeholder="/data/crawl/2024-05/"
            spellCheck={false}
            onChange={(e) => setTypedPath(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault()
                addPath()
              }
            }}
          />
          <Button icon={<Plus size={14} />} onClick={addPath} disabled={!typedPath.trim()}>
            Add
          </Button>
        </div>
        <span className="field-hint">
          {serve
            ? 'Dropped files are uploaded to the server first. For folders and very large files, type their path on the server.'
            : 'Folders are read recursively.'}
        </span>
      </div>

      {sources.length > 0 && (
        <ul className="import-sources" aria-label="To import">
          {sources.map((s) => (
            <li key={s.key}>
              <span className="mono truncate" title={s.name}>
                {s.name}
                {s.kind === 'file' && s.folder ? '/' : ''}
              </span>
              <span className="muted small">
                {s.kind === 'file' ? (s.folder ? 'folder' : formatBytes(s.size)) : 'path'}
              </span>
              <Button
                size="small"
                variant="ghost"
                aria-label={`Remove ${s.name}`}
                icon={<Trash2 size={13} />}
                disabled={busy}
                onClick={() => setSources((all) => all.filter((x) => x.key !== s.key))}
              />
            </li>
          ))}
        </ul>
      )}
      {folderInBrowser && (
        <Notice tone="info">
          A browser cannot upload a folder. Drop the files inside it, or type the folder&apos;s path
          on the server above.
        </Notice>
      )}

      <div className="form-grid">
        <div className="field">
          <label htmlFor={ids.dataset}>Dataset</label>
          <input
            id={ids.dataset}
            className="input"
            value={dataset}
            list={ids.list}
            required
            maxLength={200}
            onChange={(e) => setDataset(e.target.value)}
            aria-describedby={`${ids.dataset}-hint`}
          />
          <datalist id={ids.list}>
            {datasets?.map((d) => (
              <option key={d.id} value={d.name} />
            ))}
          </datalist>
          <span className="field-hint" id={`${ids.dataset}-hint`}>
            {datasets?.some((d) => d.name === dataset.trim())
              ? 'Exists: the documents are added to it.'
              : 'A new dataset.'}
          </span>
        </div>
        <div className="field">
          <label htmlFor={ids.format}>Format</label>
          <select
            id={ids.format}
            className="select"
            value={format}
            onChange={(e) => setFormat(e.target.value as ImportFormat)}
          >
            {importFormats.map((f) => (
              <option key={f} value={f}>
                {formatLabels[f]}
              </option>
            ))}
          </select>
        </div>
        {needsField && (
          <div className="field">
            <label htmlFor={ids.field}>Text field</label>
            <input
              id={ids.field}
              className="input mono"
              value={textField}
              placeholder="text, content, body…"
              onChange={(e) => setTextField(e.target.value)}
              aria-describedby={`${ids.field}-hint`}
            />
            <span className="field-hint" id={`${ids.field}-hint`}>
              JSONL, CSV, Parquet: other fields are kept as metadata.
            </span>
          </div>
        )}
      </div>

      {upload && (
        <div className="stack" style={{ gap: 4 }}>
          <ProgressBar
            fraction={upload.total ? upload.sent / upload.total : null}
            label={`Uploading ${upload.name}`}
          />
          <span className="muted small">
            Uploading {upload.name}: {formatBytes(upload.sent)} of {formatBytes(upload.total)}
          </span>
        </div>
      )}
      {error && <Notice tone="error">{error}</Notice>}
      <div className="row" style={{ justifyContent: 'flex-end' }}>
        <Button
          onClick={() => {
            abort.current?.abort()
            if (!busy) onClose()
          }}
        >
          Cancel
        </Button>
        <Button
          type="submit"
          variant="primary"
          disabled={busy || sources.length === 0 || !dataset.trim() || folderInBrowser}
        >
          {busy ? (upload ? 'Uploading…' : 'Starting…') : 'Import'}
        </Button>
      </div>
    </form>
  )
}

/** Files from a drop; a dropped folder is kept as one item and marked as a folder. */
export function droppedFiles(event: DragEvent): { file: File; folder: boolean }[] {
  const out: { file: File; folder: boolean }[] = []
  const items = [...event.dataTransfer.items]
  for (const item of items) {
    if (item.kind !== 'file') continue
    const file = item.getAsFile()
    if (!file) continue
    const entry = item.webkitGetAsEntry?.()
    out.push({ file, folder: !!entry?.isDirectory })
  }
  return out
}
