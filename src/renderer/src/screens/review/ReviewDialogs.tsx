import { useQueryClient } from '@tanstack/react-query'
import { Plus, Trash2 } from 'lucide-react'
import { useId, useState, type FormEvent } from 'react'
import { ApiCallError, call, useApiQuery, useTransport } from '../../api/client'
import { Button } from '../../components/Button'
import { Dialog } from '../../components/Dialog'
import { Notice } from '../../components/Notice'
import { formatCount } from '../../format'
import type { BulkChange, LabelDef, Queue } from '../../../../shared/review'

const palette = [
  '#dc2626',
  '#ea580c',
  '#ca8a04',
  '#16a34a',
  '#0891b2',
  '#2563eb',
  '#7c3aed',
  '#db2777',
  '#6b7280',
]

const message = (err: unknown) => (err instanceof ApiCallError ? err.message : String(err))

/** Create, rename, recolour, rekey and delete a dataset's labels. */
export function LabelsDialog({
  open,
  datasetId,
  labels,
  onClose,
}: {
  open: boolean
  datasetId: number
  labels: LabelDef[]
  onClose: () => void
}) {
  return (
    <Dialog open={open} title="Labels" onClose={onClose}>
      <div className="stack">
        <p className="small muted">
          Labels mark documents for later (spam, boilerplate, a topic). Keys 1 to 9 toggle them
          while reviewing; filter a queue by a label, or export them with the decisions.
        </p>
        {labels.map((l) => (
          <LabelForm key={l.id} datasetId={datasetId} label={l} used={labels} />
        ))}
        <LabelForm key={`new-${labels.length}`} datasetId={datasetId} label={null} used={labels} />
      </div>
    </Dialog>
  )
}

function LabelForm({
  datasetId,
  label,
  used,
}: {
  datasetId: number
  label: LabelDef | null
  used: LabelDef[]
}) {
  const transport = useTransport()
  const client = useQueryClient()
  const freeKey = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].find(
    (k) => !used.some((l) => l.key === k),
  )
  const [name, setName] = useState(label?.name ?? '')
  const [key, setKey] = useState<string>(label ? (label.key ?? '') : (freeKey ?? ''))
  const [color, setColor] = useState(label?.color ?? palette[used.length % palette.length])
  const [error, setError] = useState<string | null>(null)
  const id = useId()
  const refresh = () => client.invalidateQueries({ queryKey: ['review.overview'] })
  const save = async (e: FormEvent) => {
    e.preventDefault()
    try {
      await call(transport, 'review.saveLabel', {
        datasetId,
        ...(label ? { id: label.id } : {}),
        name: name.trim(),
        key: key === '' ? null : key,
        color,
      })
      setError(null)
      if (!label) setName('')
      await refresh()
    } catch (err) {
      setError(message(err))
    }
  }
  const remove = async () => {
    if (!label) return
    try {
      await call(transport, 'review.deleteLabel', { id: label.id })
      await refresh()
    } catch (err) {
      setError(message(err))
    }
  }
  const changed =
    !label || name !== label.name || key !== (label.key ?? '') || color !== label.color
  return (
    <form className="stack" style={{ gap: 4 }} onSubmit={(e) => void save(e)}>
      <div className="row label-form">
        <input
          type="color"
          aria-label={`Colour of ${label?.name ?? 'the new label'}`}
          value={color}
          onChange={(e) => setColor(e.target.value)}
        />
        <label htmlFor={`${id}-name`} className="visually-hidden">
          {label ? `Name of ${label.name}` : 'New label name'}
        </label>
        <input
          id={`${id}-name`}
          className="input"
          placeholder="New label"
          value={name}
          maxLength={50}
          onChange={(e) => setName(e.target.value)}
        />
        <label htmlFor={`${id}-key`} className="visually-hidden">
          {label ? `Key of ${label.name}` : 'New label key'}
        </label>
        <select
          id={`${id}-key`}
          className="select"
          value={key}
          onChange={(e) => setKey(e.target.value)}
        >
          <option value="">no key</option>
          {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((k) => (
            <option key={k} value={k}>
              key {k}
            </option>
          ))}
        </select>
        <Button
          type="submit"
          size="small"
          variant={label ? 'default' : 'primary'}
          icon={label ? undefined : <Plus size={13} />}
          disabled={name.trim() === '' || !changed}
        >
          {label ? 'Save' : 'Add'}
        </Button>
        {label && (
          <Button
            size="small"
            variant="ghost"
            aria-label={`Delete ${label.name}`}
            icon={<Trash2 size={13} />}
            onClick={() => void remove()}
          />
        )}
      </div>
      {label && <span className="small muted">{formatCount(label.documents)} documents</span>}
      {error && <Notice tone="error">{error}</Notice>}
    </form>
  )
}

/** Draw a random audit sample of what cleaning kept or removed. */
export function SampleDialog({
  open,
  datasetId,
  onClose,
  onCreated,
}: {
  open: boolean
  datasetId: number
  onClose: () => void
  onCreated: (sampleId: number) => void
}) {
  const transport = useTransport()
  const client = useQueryClient()
  const [of, setOf] = useState<'kept' | 'removed'>('kept')
  const [size, setSize] = useState(200)
  const [error, setError] = useState<string | null>(null)
  const id = useId()
  const create = async (e: FormEvent) => {
    e.preventDefault()
    try {
      const sample = await call(transport, 'review.createSample', { datasetId, of, size })
      await client.invalidateQueries({ queryKey: ['review.overview'] })
      setError(null)
      onCreated(sample.id)
      onClose()
    } catch (err) {
      setError(message(err))
    }
  }
  return (
    <Dialog open={open} title="New audit sample" onClose={onClose}>
      <form className="stack" onSubmit={(e) => void create(e)}>
        <p className="small muted">
          The spot-check: a random sample of what the pipeline decided on its own, to see how often
          you would have decided otherwise. Agreement is shown as you go.
        </p>
        <div className="segmented" role="radiogroup" aria-label="Sample from">
          {(['kept', 'removed'] as const).map((o) => (
            <label key={o}>
              <input type="radio" name={id} checked={of === o} onChange={() => setOf(o)} />
              {o === 'kept' ? 'What was kept' : 'What was removed'}
            </label>
          ))}
        </div>
        <div className="field">
          <label htmlFor={`${id}-size`}>Sample size</label>
          <input
            id={`${id}-size`}
            className="input"
            type="number"
            min={1}
            max={100_000}
            value={size}
            onChange={(e) => setSize(Number(e.target.value))}
          />
        </div>
        {error && <Notice tone="error">{error}</Notice>}
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={!(size >= 1)}>
            Draw sample
          </Button>
        </div>
      </form>
    </Dialog>
  )
}

/** One decision or label for every document in the queue: counted first, then confirmed. */
export function BulkDialog({
  open,
  queue,
  queueName,
  labels,
  onClose,
  onDone,
}: {
  open: boolean
  queue: Queue
  queueName: string
  labels: LabelDef[]
  onClose: () => void
  onDone: (summary: string) => void
}) {
  return (
    <Dialog open={open} title="Change every document in this queue" onClose={onClose}>
      <BulkForm
        queue={queue}
        queueName={queueName}
        labels={labels}
        onClose={onClose}
        onDone={onDone}
      />
    </Dialog>
  )
}

type BulkChoice = 'keep' | 'remove' | 'clear' | `label:${number}` | `unlabel:${number}`

function toChange(choice: BulkChoice): BulkChange {
  if (choice === 'keep' || choice === 'remove') return { field: 'decision', decision: choice }
  if (choice === 'clear') return { field: 'decision', decision: null }
  const [verb, id] = choice.split(':')
  return { field: 'label', labelId: Number(id), on: verb === 'label' }
}

function BulkForm({
  queue,
  queueName,
  labels,
  onClose,
  onDone,
}: {
  queue: Queue
  queueName: string
  labels: LabelDef[]
  onClose: () => void
  onDone: (summary: string) => void
}) {
  const transport = useTransport()
  const client = useQueryClient()
  const [choice, setChoice] = useState<BulkChoice>('keep')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const change = toChange(choice)
  const { data: preview } = useApiQuery('review.bulkPreview', { queue, change })
  const id = useId()
  const apply = async () => {
    setBusy(true)
    try {
      const r = await call(transport, 'review.bulk', { queue, change })
      for (const key of [
        'review.overview',
        'review.counts',
        'review.members',
        'review.bulkPreview',
      ])
        await client.invalidateQueries({ queryKey: [key] })
      onDone(r.action ? `${r.action.summary}. Undo reverts it in one step.` : 'Nothing changed.')
      onClose()
    } catch (err) {
      setError(message(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="stack">
      <p className="small">
        Queue: <strong>{queueName}</strong>
        {queue.search ? (
          <>
            , matching “<strong>{queue.search}</strong>”
          </>
        ) : null}
        .
      </p>
      <div className="field">
        <label htmlFor={id}>Change</label>
        <select
          id={id}
          className="select"
          value={choice}
          onChange={(e) => setChoice(e.target.value as BulkChoice)}
        >
          <option value="keep">Keep them all</option>
          <option value="remove">Remove them all</option>
          <option value="clear">Clear my decisions (back to the pipeline’s)</option>
          {labels.map((l) => (
            <option key={`l${l.id}`} value={`label:${l.id}`}>
              Add the label “{l.name}”
            </option>
          ))}
          {labels.map((l) => (
            <option key={`u${l.id}`} value={`unlabel:${l.id}`}>
              Take off the label “{l.name}”
            </option>
          ))}
        </select>
      </div>
      <p role="status" className="small">
        {preview
          ? `This changes ${formatCount(preview.changes)} of the ${formatCount(preview.total)} documents in the queue.`
          : 'Counting…'}
      </p>
      {error && <Notice tone="error">{error}</Notice>}
      <div className="row" style={{ justifyContent: 'flex-end' }}>
        <Button onClick={onClose}>Cancel</Button>
        <Button
          variant="primary"
          disabled={busy || !preview || preview.changes === 0}
          onClick={() => void apply()}
        >
          {preview ? `Change ${formatCount(preview.changes)} documents` : 'Change'}
        </Button>
      </div>
    </div>
  )
}
