import { useId, useState } from 'react'
import { ApiCallError, call, useApiQuery, useTransport } from '../../api/client'
import { Button } from '../../components/Button'
import { Dialog } from '../../components/Dialog'
import { PathDialog } from '../../components/forms/PathDialog'
import { Segmented } from '../../components/forms/Segmented'
import { Notice } from '../../components/Notice'
import { formatCount } from '../../format'
import type { CheckpointSummary, RunDetail } from '../../../../shared/runs'
import type { ExportDtype, ExportFormat } from '../../../../shared/export'

const folderDtypes = [
  { v: 'fp32', text: 'fp32', hint: 'Full precision: reloads to identical logits.' },
  { v: 'bf16', text: 'bf16', hint: 'Half the size; the range of fp32 with 8 bits of mantissa.' },
  { v: 'fp16', text: 'fp16', hint: 'Half the size; finer than bf16 but a narrower range.' },
] as const

const dtypes = {
  peft: folderDtypes,
  hf: folderDtypes,
  gguf: [
    { v: 'fp32', text: 'f32', hint: 'Full precision: llama.cpp computes the logits Frugal does.' },
    { v: 'fp16', text: 'f16', hint: 'Half the size; matrices in 16 bits, norms in 32.' },
    {
      v: 'q8_0',
      text: 'q8_0',
      hint: "About a quarter of the size: llama.cpp's 8-bit blocks of 32 weights with one scale each. The validation perplexity with these weights is measured beside the full-precision one.",
    },
  ],
} as const satisfies Record<ExportFormat, readonly { v: ExportDtype; text: string; hint: string }[]>

const formats = [
  {
    v: 'hf',
    text: 'Hugging Face folder',
    label: 'Folder (new, or empty)',
    hint: "Written there: model.safetensors, config.json, generation_config.json, tokenizer.json and a README.md model card. Loads with Hugging Face tools as Llama, Mistral, Qwen2 or Qwen3 (a MoE is written in DeepSeek-MoE's layout).",
  },
  {
    v: 'gguf',
    text: 'GGUF file',
    label: 'File (new, .gguf)',
    hint: "One file with the weights, the tokenizer and the settings, for llama.cpp, Ollama and LM Studio: a dense model as llama.cpp's llama (qwen2 or qwen3 with their attention variations), a MoE as its glm4moe. Top-p routing, a sliding window and global tokens are refused with the reason.",
  },
  {
    v: 'peft',
    text: 'LoRA adapters',
    label: 'Folder (new, or empty)',
    hint: "The run's adapters alone, in PEFT's layout (adapter_config.json, adapter_model.safetensors and a README.md): a few MB that Hugging Face PEFT loads onto the base model's Hugging Face folder. The other formats write the model with the adapters merged in.",
  },
] as const

/**
 * Export a checkpoint as a Hugging Face model folder or a GGUF file, in the precision chosen;
 * a LoRA run's adapters alone too.
 */
export function ExportDialog({
  run,
  checkpoint,
  onClose,
}: {
  run: RunDetail
  checkpoint: CheckpointSummary | null
  onClose: () => void
}) {
  const transport = useTransport()
  const [format, setFormat] = useState<ExportFormat>('hf')
  const [dtype, setDtype] = useState<ExportDtype>('fp32')
  const choices: readonly { v: ExportDtype; text: string; hint: string }[] = dtypes[format]
  const hint = choices.find((d) => d.v === dtype)?.hint
  const f = formats.find((x) => x.v === format)!
  // Only a LoRA run has adapters to export alone; a reward model is a folder only (a
  // sequence classifier with one score: llama.cpp runs no scalar heads).
  const offered =
    run.train.kind === 'reward'
      ? formats.filter((x) => x.v === 'hf')
      : run.train.lora
        ? formats
        : formats.filter((x) => x.v !== 'peft')
  const pick = (next: ExportFormat) => {
    setFormat(next)
    // fp32 is in both; a precision the other format lacks falls back to it.
    if (!dtypes[next].some((d: { v: ExportDtype }) => d.v === dtype)) setDtype('fp32')
  }
  return (
    <PathDialog
      open={checkpoint !== null}
      title={`Export ${run.name} @ step ${formatCount(checkpoint?.step ?? 0)}`}
      purpose={format === 'gguf' ? 'exportGguf' : 'exportModel'}
      label={f.label}
      hint={
        format === 'peft' && run.train.lora?.int8Base
          ? `${f.hint} This run trained them over its base rounded to int8: on the float32 base they give a model close to, not exactly, the merged export.`
          : f.hint
      }
      placeholder={
        format === 'gguf' ? `/home/you/models/${run.name}.gguf` : `/home/you/models/${run.name}`
      }
      confirmLabel="Export"
      onClose={onClose}
      extra={
        <>
          <fieldset className="field" style={{ border: 0, padding: 0, margin: 0 }}>
            <legend className="small" style={{ fontWeight: 500 }}>
              Format
            </legend>
            <Segmented label="Format" choices={offered} value={format} onChange={pick} />
          </fieldset>
          <fieldset className="field" style={{ border: 0, padding: 0, margin: 0 }}>
            <legend className="small" style={{ fontWeight: 500 }}>
              Precision
            </legend>
            <Segmented label="Precision" choices={choices} value={dtype} onChange={setDtype} />
            <span className="field-hint">{hint}</span>
          </fieldset>
        </>
      }
      onSubmit={(out) =>
        call(transport, 'models.export', {
          runId: run.id,
          checkpointId: checkpoint?.id ?? null,
          out,
          format,
          dtype,
        })
      }
    />
  )
}

/** Perplexity on the run's validation split or on a whole dataset. */
export function PerplexityDialog({
  run,
  checkpoint,
  onClose,
}: {
  run: RunDetail
  checkpoint: CheckpointSummary | null
  onClose: () => void
}) {
  const transport = useTransport()
  const { data: datasets } = useApiQuery('datasets.list', {})
  const [datasetId, setDatasetId] = useState<number | null>(null)
  const [maxTokens, setMaxTokens] = useState(1_000_000)
  const [error, setError] = useState<string | null>(null)
  const onId = useId()
  const maxId = useId()
  const start = async () => {
    setError(null)
    try {
      await call(transport, 'models.perplexity', {
        runId: run.id,
        checkpointId: checkpoint?.id ?? null,
        datasetId,
        maxTokens,
      })
      onClose()
    } catch (err) {
      setError(err instanceof ApiCallError ? err.message : String(err))
    }
  }
  return (
    <Dialog
      open={checkpoint !== null}
      title={`Perplexity of ${run.name} @ step ${formatCount(checkpoint?.step ?? 0)}`}
      onClose={onClose}
    >
      <form className="stack" onSubmit={(e) => (e.preventDefault(), void start())}>
        <div className="field">
          <label htmlFor={onId}>Measure on</label>
          <select
            id={onId}
            className="select"
            value={datasetId ?? ''}
            onChange={(e) => setDatasetId(e.target.value === '' ? null : Number(e.target.value))}
          >
            <option value="">The run’s validation split</option>
            {datasets?.map((d) => (
              <option key={d.id} value={d.id}>
                Dataset {d.name} (all of it)
              </option>
            ))}
          </select>
          <span className="field-hint">
            Another dataset is encoded with this run’s tokenizer first (the encoding is kept).
          </span>
        </div>
        <div className="field">
          <label htmlFor={maxId}>Tokens at most</label>
          <input
            id={maxId}
            className="input"
            type="number"
            min={1}
            value={Number.isFinite(maxTokens) ? maxTokens : ''}
            onChange={(e) => setMaxTokens(e.target.valueAsNumber)}
          />
        </div>
        {error && <Notice tone="error">{error}</Notice>}
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary">
            Measure
          </Button>
        </div>
      </form>
    </Dialog>
  )
}

/** Multiple-choice accuracy on a folder of MMLU-layout CSV files. */
export function McDialog({
  run,
  checkpoint,
  onClose,
}: {
  run: RunDetail
  checkpoint: CheckpointSummary | null
  onClose: () => void
}) {
  const transport = useTransport()
  const [shots, setShots] = useState(0)
  const [limit, setLimit] = useState<number | null>(null)
  const shotsId = useId()
  const limitId = useId()
  return (
    <PathDialog
      open={checkpoint !== null}
      title={`Multiple choice: ${run.name} @ step ${formatCount(checkpoint?.step ?? 0)}`}
      purpose="benchmarkFolder"
      label="Benchmark folder"
      hint="MMLU's layout: CSV files without a header (question, four choices, answer letter), one per subject, in the folder or its test/ and dev/ folders. Each choice is scored by its summed log-likelihood."
      placeholder="/home/you/benchmarks/mmlu"
      confirmLabel="Score"
      onClose={onClose}
      extra={
        <div className="row" style={{ alignItems: 'flex-start' }}>
          <div className="field">
            <label htmlFor={shotsId}>Examples before each question</label>
            <input
              id={shotsId}
              className="input"
              type="number"
              min={0}
              max={10}
              value={Number.isFinite(shots) ? shots : ''}
              onChange={(e) => setShots(e.target.valueAsNumber)}
            />
            <span className="field-hint">0: zero-shot; k: the first k solved dev questions.</span>
          </div>
          <div className="field">
            <label htmlFor={limitId}>Questions per subject</label>
            <input
              id={limitId}
              className="input"
              type="number"
              min={1}
              placeholder="all"
              value={limit ?? ''}
              onChange={(e) => setLimit(e.target.value === '' ? null : e.target.valueAsNumber)}
            />
          </div>
        </div>
      }
      onSubmit={(data) =>
        call(transport, 'models.mc', {
          runId: run.id,
          checkpointId: checkpoint?.id ?? null,
          data,
          shots,
          limit,
        })
      }
    />
  )
}

/** Bring a model folder into the project as a run with one checkpoint. */
export function ImportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const transport = useTransport()
  const [name, setName] = useState('')
  const nameId = useId()
  return (
    <PathDialog
      open={open}
      title="Import a model"
      purpose="importModel"
      label="Model folder"
      hint="A folder with config.json, model.safetensors and tokenizer.json: a Frugal export (any precision), or a Llama/Mistral/DeepSeek-MoE-style model whose config Frugal can run the same way."
      placeholder="/home/you/models/my-model"
      confirmLabel="Import"
      onClose={onClose}
      extra={
        <div className="field">
          <label htmlFor={nameId}>Name in this project</label>
          <input
            id={nameId}
            className="input"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. shakespeare-base"
          />
        </div>
      }
      onSubmit={(path) => call(transport, 'models.import', { path, name })}
    />
  )
}
