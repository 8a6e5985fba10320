import { useQueryClient } from '@tanstack/react-query'
import { Download, MessagesSquare, Trash2, Type } from 'lucide-react'
import { useId, useState } from 'react'
import { Link } from 'wouter'
import { call, useApiMutation, useApiQuery, useTransport } from '../../api/client'
import { useJob } from '../../api/jobs'
import { Button } from '../../components/Button'
import { EmptyState } from '../../components/EmptyState'
import { PathDialog } from '../../components/forms/PathDialog'
import { Notice } from '../../components/Notice'
import { Page, Panel } from '../../components/Page'
import { ProgressBar } from '../../components/ProgressBar'
import { formatBytes, formatDateTime } from '../../format'
import { progressFraction, type JobResults } from '../../../../shared/jobs'
import './tokenizer.css'

function TrainForm({ onTrained }: { onTrained: (id: number) => void }) {
  const transport = useTransport()
  const { data: datasets } = useApiQuery('datasets.list', {})
  const [chosenDatasetId, setDatasetId] = useState<number | null>(null)
  const [kind, setKind] = useState<'bpe' | 'char'>('bpe')
  const [vocabSize, setVocabSize] = useState(4096)
  const [minFrequency, setMinFrequency] = useState(2)
  const [name, setName] = useState('')
  const [jobId, setJobId] = useState<string | null>(null)
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | null>(null)
  const id = useId()
  // The first dataset until the user picks one.
  const datasetId = chosenDatasetId ?? datasets?.[0]?.id ?? null
  const dataset = datasets?.find((d) => d.id === datasetId)
  const defaultName = `${dataset?.name ?? 'dataset'}-${kind}${kind === 'bpe' ? `-${vocabSize}` : ''}`
  const { progress } = useJob(jobId, {
    onEnd: (j) => {
      setJobId(null)
      if (j.state === 'succeeded') {
        const r = j.result as JobResults['tokenizer.train']
        setMessage({
          tone: 'success',
          text: `Trained "${r.name}": ${r.vocabSize} ids, ${r.bytesPerToken.toFixed(2)} bytes per token, in ${r.seconds.toFixed(1)} s.`,
        })
        onTrained(r.tokenizerId)
      } else setMessage({ tone: 'error', text: j.error?.message ?? `Training was ${j.state}.` })
    },
  })
  const training = jobId !== null
  const train = async () => {
    if (datasetId === null) return
    setMessage(null)
    try {
      const started = await call(transport, 'jobs.start', {
        kind: 'tokenizer.train',
        params: { datasetId, name: name.trim() || defaultName, kind, vocabSize, minFrequency },
      })
      setJobId(started.id)
    } catch (err) {
      setMessage({ tone: 'error', text: (err as Error).message })
    }
  }
  return (
    <div className="stack">
      <div className="schema-form">
        <div className="field">
          <label htmlFor={`${id}-ds`}>Dataset</label>
          <select
            id={`${id}-ds`}
            className="select"
            value={datasetId ?? ''}
            onChange={(e) => setDatasetId(Number(e.target.value))}
          >
            {(datasets ?? []).map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
          <span className="field-hint">
            Learned from its kept documents after cleaning (or all, if never cleaned).
          </span>
        </div>
        <div className="field">
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select
            id={`${id}-kind`}
            className="select"
            value={kind}
            onChange={(e) => setKind(e.target.value as 'bpe' | 'char')}
          >
            <option value="bpe">Byte-level BPE</option>
            <option value="char">Characters</option>
          </select>
          <span className="field-hint">
            BPE merges frequent byte pairs (GPT-2, Llama 3); characters suit tiny experiments.
          </span>
        </div>
        {kind === 'bpe' && (
          <>
            <div className="field">
              <label htmlFor={`${id}-vocab`}>Vocabulary size</label>
              <input
                id={`${id}-vocab`}
                className="input"
                type="number"
                min={257}
                max={262144}
                value={vocabSize}
                onChange={(e) => setVocabSize(Number(e.target.value))}
              />
              <span className="field-hint">
                Ids in all: special tokens, 256 bytes, then merges. From 257.
              </span>
            </div>
            <div className="field">
              <label htmlFor={`${id}-minf`}>Minimum frequency</label>
              <input
                id={`${id}-minf`}
                className="input"
                type="number"
                min={1}
                value={minFrequency}
                onChange={(e) => setMinFrequency(Number(e.target.value))}
              />
              <span className="field-hint">
                A pair is merged only if it occurs at least this often.
              </span>
            </div>
          </>
        )}
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            className="input"
            placeholder={defaultName}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
      </div>
      <div className="row">
        <Button
          variant="primary"
          disabled={training || datasetId === null}
          onClick={() => void train()}
        >
          {training ? 'Training…' : 'Train tokenizer'}
        </Button>
        {training && (
          <>
            <ProgressBar
              className="grow"
              fraction={progressFraction(progress)}
              label="Tokenizer training progress"
            />
            <span className="muted small">{progress?.message ?? 'Starting'}</span>
          </>
        )}
      </div>
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
    </div>
  )
}

function TryIt({ tokenizerId }: { tokenizerId: number }) {
  const [text, setText] = useState('To be, or not to be, that is the question: 1234567 🙂')
  const { data, error } = useApiQuery(
    'tokenizers.encode',
    { id: tokenizerId, text },
    { placeholderData: (prev) => prev },
  )
  return (
    <div className="stack">
      <textarea
        className="input textarea"
        rows={3}
        aria-label="Text to tokenize"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      {error && <Notice tone="error">{error.message}</Notice>}
      {data && (
        <>
          <p className="muted small">
            {data.ids.length} tokens for {data.bytes} bytes:{' '}
            {data.ids.length ? (data.bytes / data.ids.length).toFixed(2) : '—'} bytes per token.
          </p>
          <div className="token-strip" aria-label="Tokens">
            {data.pieces.map((p, i) => (
              <span key={i} className="token" title={`id ${data.ids[i]}`}>
                {p.replace(/ /g, '·').replace(/\n/g, '↵')}
              </span>
            ))}
          </div>
        </>
      )}
    </div>
  )
}

/** Tokenizers in the project: train one, see how it cuts text, export it. */
export function TokenizerScreen() {
  const client = useQueryClient()
  const { data: tokenizers } = useApiQuery('tokenizers.list', {})
  const { data: datasets } = useApiQuery('datasets.list', {})
  const [selected, setSelected] = useState<number | null>(null)
  const [exporting, setExporting] = useState<number | null>(null)
  const [notice, setNotice] = useState<{ tone: 'error' | 'success'; text: string } | null>(null)
  const transport = useTransport()
  const remove = useApiMutation('tokenizers.delete', {
    onSuccess: () => void client.invalidateQueries({ queryKey: ['tokenizers.list'] }),
    onError: (err) => setNotice({ tone: 'error', text: err.message }),
  })
  const addChat = useApiMutation('tokenizers.addChatTokens', {
    onSuccess: (t) => {
      void client.invalidateQueries({ queryKey: ['tokenizers.list'] })
      setSelected(t.id)
      setNotice({
        tone: 'success',
        text: `${t.name}: <|im_start|> and <|im_end|> added as ids ${t.vocabSize - 2} and ${t.vocabSize - 1}, with ChatML as its chat template. Fine-tune a model trained on the original with it (Train → New run, Start from).`,
      })
    },
    onError: (err) => setNotice({ tone: 'error', text: err.message }),
  })
  const current = tokenizers?.find((t) => t.id === selected) ?? tokenizers?.[0] ?? null
  const datasetName = (id: number | null) => datasets?.find((d) => d.id === id)?.name ?? '—'
  if (datasets && datasets.length === 0) {
    return (
      <Page
        title="Tokenizer"
        description="Byte-level BPE vocabularies trained on your cleaned data, stored in the project."
      >
        <EmptyState
          icon={<Type size={22} />}
          title="No tokenizer yet"
          steps={[{ label: 'Import a dataset (Data)', done: false }]}
          actions={
            <Link href="/data" className="btn btn-primary">
              Go to Data
            </Link>
          }
        >
          A tokenizer turns text into the integers a model reads. Train one on a dataset; it is
          saved in this project and exported as a Hugging Face tokenizer.json with your models.
        </EmptyState>
      </Page>
    )
  }
  return (
    <Page
      title="Tokenizer"
      description="Byte-level BPE vocabularies trained on your data, stored in the project as Hugging Face tokenizer.json."
    >
      <div className="stack">
        {notice && <Notice tone={notice.tone}>{notice.text}</Notice>}
        {tokenizers && tokenizers.length > 0 && (
          <Panel title="Tokenizers" description={`${tokenizers.length} in this project`}>
            <table className="table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Kind</th>
                  <th className="num">Vocabulary</th>
                  <th className="num">Bytes per token</th>
                  <th>Trained on</th>
                  <th>Created</th>
                  <th>
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokenizers.map((t) => (
                  <tr key={t.id} aria-selected={current?.id === t.id}>
                    <td>
                      <button className="link-button" onClick={() => setSelected(t.id)}>
                        {t.name}
                      </button>
                    </td>
                    <td>{t.kind === 'bpe' ? 'byte-level BPE' : 'characters'}</td>
                    <td className="num">{t.vocabSize.toLocaleString()}</td>
                    <td className="num">
                      {t.bytesPerToken === null ? '—' : t.bytesPerToken.toFixed(2)}
                    </td>
                    <td>{datasetName(t.datasetId)}</td>
                    <td>{formatDateTime(t.createdAt)}</td>
                    <td className="num">
                      <div
                        className="row"
                        style={{ flexWrap: 'nowrap', justifyContent: 'flex-end' }}
                      >
                        <Button
                          size="small"
                          icon={<Download size={13} />}
                          aria-label={`Export ${t.name}`}
                          onClick={() => setExporting(t.id)}
                        >
                          Export
                        </Button>
                        <Button
                          size="small"
                          icon={<MessagesSquare size={13} />}
                          aria-label={`Add chat tokens to ${t.name}`}
                          title="A copy with ChatML's <|im_start|> and <|im_end|> added after its last id (the other ids unchanged) and ChatML as its chat template"
                          disabled={addChat.isPending}
                          onClick={() => addChat.mutate({ id: t.id })}
                        >
                          Add chat tokens
                        </Button>
                        <Button
                          size="small"
                          variant="danger"
                          icon={<Trash2 size={13} />}
                          aria-label={`Delete ${t.name}`}
                          onClick={() => remove.mutate({ id: t.id })}
                        >
                          Delete
                        </Button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Panel>
        )}
        {current && (
          <Panel
            title={`Try ${current.name}`}
            description="How it cuts text: each box is one token (· is a space)."
          >
            <TryIt tokenizerId={current.id} />
          </Panel>
        )}
        <Panel title="Train a tokenizer">
          <TrainForm onTrained={(id) => setSelected(id)} />
        </Panel>
      </div>
      <PathDialog
        open={exporting !== null}
        title="Export tokenizer.json"
        purpose="exportData"
        label="File"
        hint="The Hugging Face tokenizer.json: loads with the tokenizers library and transformers."
        confirmLabel="Export"
        onClose={() => setExporting(null)}
        onSubmit={async (destination) => {
          const r = await call(transport, 'tokenizers.export', { id: exporting!, destination })
          setNotice({ tone: 'success', text: `Exported to ${r.path} (${formatBytes(r.bytes)}).` })
        }}
      />
    </Page>
  )
}
