import { useQueryClient } from '@tanstack/react-query'
import { Gauge, Play } from 'lucide-react'
import { useMemo, useState } from 'react'
import { Link, useLocation } from 'wouter'
import { ApiCallError, call, useApiQuery, useTransport } from '../../api/client'
import { useJob } from '../../api/jobs'
import { Button } from '../../components/Button'
import {
  fieldErrors,
  SchemaForm,
  valueText,
  type FormValues,
} from '../../components/forms/SchemaForm'
import { Notice } from '../../components/Notice'
import { Page, Panel } from '../../components/Page'
import { ProgressBar } from '../../components/ProgressBar'
import { modelConfigSchema } from '../../../../shared/config/model'
import {
  grpoConfigSchema,
  trainConfigSchema,
  type RewardRule,
} from '../../../../shared/config/train'
import { RewardRulesEditor } from './RewardRulesEditor'
import { progressFraction, type JobResults } from '../../../../shared/jobs'
import type { RunListItem } from '../../../../shared/runs'
import { Estimates } from './Estimates'
import { presets } from './presets'

type Calibration = JobResults['train.calibrate']

/** Set up a run: a preset, data, settings generated from the schemas, estimates, then start. */
export function NewRunPage() {
  const transport = useTransport()
  const client = useQueryClient()
  const [, navigate] = useLocation()
  const { data: datasets } = useApiQuery('datasets.list', {})
  const { data: tokenizers } = useApiQuery('tokenizers.list', {})
  const { data: env } = useApiQuery('runs.environment', {})
  const [name, setName] = useState('tiny-dense')
  const [chosenDatasetId, setDatasetId] = useState<number | null>(null)
  /** A preference run without a dataset: it learns from Evaluate's A/B choices alone. */
  const [noDataset, setNoDataset] = useState(false)
  const [chosenTokenizerId, setTokenizerId] = useState<number | null>(null)
  const [valFraction, setValFraction] = useState(0.1)
  const [presetId, setPresetId] = useState(presets[0].id)
  const [model, setModel] = useState<FormValues>(presets[0].model)
  const [train, setTrain] = useState<FormValues>(presets[0].train)
  const [error, setError] = useState<{ message: string; field?: string } | null>(null)
  /** The run whose newest checkpoint the new run starts from ('' = random initialization). */
  const [initRunId, setInitRunId] = useState('')
  /** The run whose newest checkpoint teaches this one ('' = no distillation). */
  const [teacherRunId, setTeacherRunId] = useState('')
  /** With train.curriculum "reference": the run whose newest checkpoint scores the data. */
  const [referenceRunId, setReferenceRunId] = useState('')
  const { data: allRuns } = useApiQuery('runs.list', {})
  const initSources = (allRuns ?? []).filter((r) => r.checkpointCount > 0)
  const [busy, setBusy] = useState(false)
  const [calibration, setCalibration] = useState<{ key: string; result: Calibration } | null>(null)
  const [calibrationJob, setCalibrationJob] = useState<string | null>(null)
  const [tokenizerJob, setTokenizerJob] = useState<string | null>(null)
  const [newTokenizer, setNewTokenizer] = useState({
    kind: 'bpe' as 'bpe' | 'char',
    vocabSize: 2048,
  })

  // The first dataset and tokenizer until the user picks others.
  const datasetId = chosenDatasetId ?? datasets?.[0]?.id ?? null
  const tokenizerId = chosenTokenizerId ?? tokenizers?.[0]?.id ?? null

  const tokenizer = tokenizers?.find((t) => t.id === tokenizerId) ?? null
  const modelInput = useMemo(
    () => ({ ...model, vocabSize: model.vocabSize ?? tokenizer?.vocabSize ?? 2 }),
    [model, tokenizer],
  )
  const modelErrors = fieldErrors(modelConfigSchema, modelInput)
  const trainErrors = fieldErrors(trainConfigSchema, train)
  const parsedModel = modelConfigSchema.safeParse(modelInput)
  const parsedTrain = trainConfigSchema.safeParse(train)
  const kind = typeof train.kind === 'string' ? train.kind : 'pretrain'
  const fineTuning = kind !== 'pretrain'
  const preference = kind === 'dpo' || kind === 'simpo' || kind === 'reward'
  /** A preference run on Evaluate's A/B choices alone, without a dataset. */
  const choicesOnly = preference && (noDataset || datasetId === null)
  const valid =
    parsedModel.success &&
    parsedTrain.success &&
    tokenizer !== null &&
    (datasetId !== null || choicesOnly)
  const configKey = JSON.stringify([modelInput, train])

  const { progress: calibrationProgress } = useJob(calibrationJob, {
    onEnd: (job) => {
      setCalibrationJob(null)
      if (job.state === 'succeeded')
        setCalibration({ key: configKey, result: job.result as Calibration })
      else if (job.error) setError({ message: job.error.message })
    },
  })
  const { progress: tokenizerProgress } = useJob(tokenizerJob, {
    onEnd: (job) => {
      setTokenizerJob(null)
      if (job.state === 'succeeded')
        setTokenizerId((job.result as JobResults['tokenizer.train']).tokenizerId)
      else if (job.error) setError({ message: job.error.message })
    },
  })

  const applyPreset = (id: string) => {
    const p = presets.find((x) => x.id === id)!
    setPresetId(p.id)
    setModel(p.model)
    setTrain(p.train)
    setName(p.id)
    setCalibration(null)
  }

  const calibrate = async () => {
    setError(null)
    try {
      const job = await call(transport, 'jobs.start', {
        kind: 'train.calibrate',
        params: { model: modelInput, train, steps: 3 },
      })
      setCalibrationJob(job.id)
    } catch (err) {
      setError({ message: (err as Error).message })
    }
  }

  const trainTokenizer = async () => {
    if (datasetId === null) return
    setError(null)
    const dataset = datasets?.find((d) => d.id === datasetId)
    const tname = `${dataset?.name ?? 'dataset'}-${newTokenizer.kind}${newTokenizer.kind === 'bpe' ? `-${newTokenizer.vocabSize}` : ''}`
    try {
      const job = await call(transport, 'jobs.start', {
        kind: 'tokenizer.train',
        params: {
          datasetId,
          name: tname,
          kind: newTokenizer.kind,
          vocabSize: newTokenizer.vocabSize,
        },
      })
      setTokenizerJob(job.id)
    } catch (err) {
      setError({ message: (err as Error).message })
    }
  }

  /** Starting from a model fixes the architecture and tokenizer to its own. */
  const startFrom = async (runId: string) => {
    setInitRunId(runId)
    if (!runId) return
    try {
      const source = await call(transport, 'runs.get', { id: runId })
      setModel(source.model)
      setTokenizerId(source.data.tokenizerId)
      setCalibration(null)
    } catch (err) {
      setError({ message: (err as Error).message })
    }
  }

  /**
   * A teacher's soft targets and a reference's losses are over its token ids: the new run
   * takes its tokenizer.
   */
  const learnFrom = async (runId: string, set: (id: string) => void) => {
    set(runId)
    if (!runId) return
    try {
      const source = await call(transport, 'runs.get', { id: runId })
      setTokenizerId(source.data.tokenizerId)
    } catch (err) {
      setError({ message: (err as Error).message })
    }
  }

  const create = async (start: boolean) => {
    if ((datasetId === null && !choicesOnly) || tokenizerId === null) return
    setBusy(true)
    setError(null)
    try {
      const run = await call(transport, 'runs.create', {
        name,
        datasetId: choicesOnly ? null : datasetId,
        tokenizerId,
        valFraction,
        model,
        train,
        ...(initRunId ? { init: { runId: initRunId, checkpointId: null } } : {}),
        ...(teacherRunId ? { teacher: { runId: teacherRunId, checkpointId: null } } : {}),
        ...(train.curriculum === 'reference' && referenceRunId
          ? { reference: { runId: referenceRunId, checkpointId: null } }
          : {}),
      })
      if (start) await call(transport, 'runs.start', { id: run.id })
      await client.invalidateQueries({ queryKey: ['runs.list'] })
      navigate(`/run/${run.id}`)
    } catch (err) {
      setError(err instanceof ApiCallError ? err.error : { message: (err as Error).message })
    } finally {
      setBusy(false)
    }
  }

  const msPerStep = calibration?.key === configKey ? calibration.result.msPerStep : null
  const setKind = (kind: string) => {
    // Fine-tuning has no use for the pretraining-only settings: they go back to their defaults.
    const kept =
      kind !== 'pretrain'
        ? Object.fromEntries(Object.entries(train).filter(([k]) => !PRETRAINING_ONLY.includes(k)))
        : train
    setTrain({ ...kept, kind: kind === 'pretrain' ? undefined : kind })
    setCalibration(null)
    if (kind !== 'pretrain') setTeacherRunId('')
  }
  return (
    <Page
      title="New run"
      description="Start from a preset, pick the data, adjust what you need: estimates update as you type."
      actions={
        <Link href="/" className="btn">
          Cancel
        </Link>
      }
    >
      <div className="train-setup">
        <div className="stack">
          <Panel title="Preset">
            <div className="preset-list" role="radiogroup" aria-label="Presets">
              {presets.map((p) => (
                <button
                  key={p.id}
                  type="button"
                  className="preset"
                  role="radio"
                  aria-checked={presetId === p.id}
                  onClick={() => applyPreset(p.id)}
                >
                  <strong>{p.title}</strong>
                  <span className="muted small">{p.summary}</span>
                </button>
              ))}
            </div>
          </Panel>

          <Panel title="Data">
            <div className="schema-form">
              <div className="field">
                <label htmlFor="run-name">Run name</label>
                <input
                  id="run-name"
                  className="input"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  aria-invalid={error?.field === 'name'}
                />
              </div>
              <div className="field">
                <label htmlFor="run-kind">What it learns</label>
                <select
                  id="run-kind"
                  className="select"
                  value={kind}
                  aria-describedby="run-kind-hint"
                  onChange={(e) => setKind(e.target.value)}
                >
                  <option value="pretrain">Pretraining on text</option>
                  <option value="sft">Fine-tuning on conversations (SFT)</option>
                  <option value="dpo">Preferences: DPO</option>
                  <option value="simpo">Preferences: SimPO (no reference model)</option>
                  <option value="reward">A reward model (scores replies)</option>
                  <option value="grpo">Reinforcement with verifiable rewards (GRPO)</option>
                </select>
                <span className="field-hint" id="run-kind-hint">
                  {KIND_HINTS[kind]}
                </span>
              </div>
              <div className="field">
                <label htmlFor="run-dataset">Dataset</label>
                <select
                  id="run-dataset"
                  className="select"
                  value={choicesOnly ? '' : (datasetId ?? '')}
                  onChange={(e) => {
                    setNoDataset(e.target.value === '')
                    if (e.target.value !== '') setDatasetId(Number(e.target.value))
                  }}
                >
                  {preference && <option value="">None: only the A/B choices</option>}
                  {(datasets ?? []).map((d) => (
                    <option key={d.id} value={d.id}>
                      {d.name} ({d.documents.toLocaleString()} document
                      {d.documents === 1 ? '' : 's'})
                    </option>
                  ))}
                </select>
                <span className="field-hint">
                  {preference
                    ? "Its prompt/chosen/rejected records, and (unless turned off below) the choices made in Evaluate's A/B view."
                    : fineTuning
                      ? 'Its conversations (kept ones, if it was cleaned).'
                      : 'Its kept documents after cleaning, or all of them if it was never cleaned.'}
                </span>
              </div>
              <div className="field">
                <label htmlFor="run-tokenizer">Tokenizer</label>
                <select
                  id="run-tokenizer"
                  className="select"
                  value={tokenizerId ?? ''}
                  onChange={(e) => setTokenizerId(Number(e.target.value))}
                >
                  {(tokenizers ?? []).length === 0 && (
                    <option value="">None yet: train one below</option>
                  )}
                  {(tokenizers ?? []).map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name} ({t.kind}, {t.vocabSize} ids
                      {t.bytesPerToken ? `, ${t.bytesPerToken.toFixed(2)} bytes/token` : ''})
                    </option>
                  ))}
                </select>
              </div>
              <SourceRunSelect
                id="run-init"
                label="Start from"
                none="Random initialization"
                runs={initSources}
                value={initRunId}
                onChange={(id) => void startFrom(id)}
                hint={
                  initRunId
                    ? 'Its weights (not its optimizer state): the architecture and tokenizer are its own (or its tokenizer with chat tokens added: Tokenizer → Add chat tokens).'
                    : preference
                      ? 'The model to improve, usually a fine-tuned one (DPO needs it: it is also the reference).'
                      : fineTuning
                        ? 'Fine-tune a pretrained or imported model: from random weights it knows only these conversations.'
                        : 'Or continue training a trained or imported model on this data.'
                }
              />
              {!fineTuning && (
                <SourceRunSelect
                  id="run-teacher"
                  label="Teacher (distillation)"
                  none="None: learn from the labels only"
                  runs={initSources}
                  value={teacherRunId}
                  onChange={(id) => void learnFrom(id, setTeacherRunId)}
                  hint={
                    teacherRunId
                      ? 'Loss = α·CE + (1−α)·T²·KL(teacher ‖ student): set α and T under Training. Same tokenizer as the teacher.'
                      : 'A larger trained model whose predictions this run also learns from.'
                  }
                />
              )}
              {!fineTuning && train.curriculum === 'reference' && (
                <SourceRunSelect
                  id="run-reference"
                  label="Curriculum reference"
                  none={
                    teacherRunId
                      ? 'The teacher (teacher-confidence sampling)'
                      : 'Choose a trained model'
                  }
                  runs={initSources}
                  value={referenceRunId}
                  onChange={(id) => void learnFrom(id, setReferenceRunId)}
                  hint="Its loss on each window of the data is that window's difficulty: easy windows first, harder ones as the loss falls. Same tokenizer."
                />
              )}
              <div className="field">
                <label htmlFor="run-val">Validation share</label>
                <input
                  id="run-val"
                  className="input"
                  type="number"
                  step="0.01"
                  min={0.001}
                  max={0.5}
                  value={valFraction}
                  onChange={(e) => setValFraction(Number(e.target.value))}
                />
                <span className="field-hint">
                  {fineTuning
                    ? 'Held out by conversation (with fewer than 20, validation measures the training ones).'
                    : "Held out by document (by each document's tail when there are fewer than 20)."}
                </span>
              </div>
            </div>
            <div className="row" style={{ marginTop: 12 }}>
              <span className="small muted">New tokenizer on this dataset:</span>
              <select
                className="select"
                aria-label="Tokenizer kind"
                value={newTokenizer.kind}
                onChange={(e) =>
                  setNewTokenizer({ ...newTokenizer, kind: e.target.value as 'bpe' | 'char' })
                }
              >
                <option value="bpe">byte-level BPE</option>
                <option value="char">characters</option>
              </select>
              {newTokenizer.kind === 'bpe' && (
                <input
                  className="input"
                  type="number"
                  aria-label="Vocabulary size"
                  style={{ width: 100 }}
                  min={257}
                  value={newTokenizer.vocabSize}
                  onChange={(e) =>
                    setNewTokenizer({ ...newTokenizer, vocabSize: Number(e.target.value) })
                  }
                />
              )}
              <Button
                size="small"
                disabled={tokenizerJob !== null || datasetId === null}
                onClick={() => void trainTokenizer()}
              >
                {tokenizerJob ? 'Training…' : 'Train tokenizer'}
              </Button>
            </div>
            {tokenizerJob && (
              <ProgressBar
                fraction={progressFraction(tokenizerProgress)}
                label="Tokenizer training progress"
              />
            )}
          </Panel>

          <Panel
            title="Model"
            description="Shape of the network. Empty fields take the default shown."
          >
            <SchemaForm
              schema={modelConfigSchema}
              values={model}
              onChange={(v) => (setModel(v), setCalibration(null))}
              errors={modelErrors}
              hidden={['vocabSize']}
            />
          </Panel>

          {kind === 'grpo' && (
            <Panel
              title="Reward rules"
              description="What a sampled reply earns: the sum of these rules, each times its weight. Answer checks (exact, numeric) also decide the accuracy the run reports."
            >
              <RewardRulesEditor
                rules={grpoRules(train)}
                errors={trainErrors}
                rewardRuns={initSources.filter((r) => r.kind === 'reward')}
                onChange={(rewards) => (
                  setTrain({ ...train, grpo: { ...grpoValues(train), rewards } }),
                  setCalibration(null)
                )}
              />
            </Panel>
          )}

          <Panel title="Training" description="Optimizer, schedule, precision and bookkeeping.">
            {train.precision !== undefined && train.precision !== 'fp32' && (
              <Notice tone="info">
                {valueText(train.precision)}: matmul inputs are rounded to the format and multiplied
                in float32. On a GPU (webgpu), bf16 and fp16 keep them in 16 bits for the backward
                pass, though a step does not yet use less memory than fp32; on the CPU backends, and
                for fp8 everywhere (WebGPU has no 8-bit floats), the format is emulated in float32.
                Either way the run shows the format's numerical effect; its log says which path it
                used.
              </Notice>
            )}
            <SchemaForm
              schema={trainConfigSchema}
              values={train}
              onChange={(v) => (setTrain(v), setCalibration(null))}
              errors={trainErrors}
              hidden={[
                'kind',
                ...(fineTuning ? PRETRAINING_ONLY : []),
                ...(preference ? [] : PREFERENCE_ONLY),
                ...(kind === 'simpo' ? [] : ['simpoMargin']),
                ...(kind === 'reward' ? ['preferenceBeta'] : []),
                ...(kind === 'grpo' ? [] : ['grpo']),
              ]}
              order={[
                'steps',
                'batchSize',
                'sequenceLength',
                'gradAccumulation',
                'learningRate',
                'minLearningRate',
                'warmupSteps',
                'precision',
                'qatStart',
                'qatActivations',
                'distillAlpha',
                'distillTemperature',
                'distillHiddenWeight',
                'distillHiddenLayers',
                'distillStages',
                'curriculum',
                'curriculumThresholds',
                'contextWarmupSteps',
                'contextStart',
                'batchWarmupSteps',
                'batchStart',
                'tokenBudget',
                'adaptiveBatch',
                'maxGradAccumulation',
              ]}
            />
          </Panel>
        </div>

        <aside className="train-aside">
          <Panel title="Estimates">
            {parsedModel.success && parsedTrain.success ? (
              <Estimates
                model={parsedModel.data}
                train={parsedTrain.data}
                env={env}
                msPerStep={msPerStep}
              />
            ) : (
              <p className="muted small">Fix the settings marked in red to see estimates.</p>
            )}
            <div className="stack" style={{ marginTop: 12 }}>
              <Button
                icon={<Gauge size={14} />}
                disabled={!valid || calibrationJob !== null}
                onClick={() => void calibrate()}
              >
                {calibrationJob ? 'Timing…' : 'Time a step on this machine'}
              </Button>
              {calibrationJob && (
                <ProgressBar
                  fraction={progressFraction(calibrationProgress)}
                  label="Calibration progress"
                />
              )}
              {error && (
                <Notice tone="error">
                  {/* Setup refusals name their field themselves ("train.lora: …"). */}
                  {error.field && !error.message.startsWith(`${error.field}:`)
                    ? `${error.field}: `
                    : ''}
                  {error.message}
                </Notice>
              )}
              <Button
                variant="primary"
                icon={<Play size={14} />}
                disabled={!valid || busy}
                onClick={() => void create(true)}
              >
                Create and start
              </Button>
              <Button disabled={!valid || busy} onClick={() => void create(false)}>
                Create without starting
              </Button>
            </div>
          </Panel>
        </aside>
      </div>
    </Page>
  )
}

/**
 * Training settings that shape or reorder windows of a text stream, or distil: not for a
 * fine-tuning run, whose rows are whole packed conversations (the server refuses them too).
 */
const PRETRAINING_ONLY = [
  'distillAlpha',
  'distillTemperature',
  'distillHiddenWeight',
  'distillHiddenLayers',
  'distillStages',
  'distillCache',
  'distillCacheTopK',
  'curriculum',
  'curriculumThresholds',
  'contextWarmupSteps',
  'contextStart',
  'batchWarmupSteps',
  'batchStart',
  'tokenBudget',
]

/** The form's GRPO settings object (empty when the run takes the defaults). */
function grpoValues(train: FormValues): FormValues {
  const g = train.grpo
  return g && typeof g === 'object' ? (g as FormValues) : {}
}

/** The run's reward rules as the form holds them, or the default (exact answer). */
function grpoRules(train: FormValues): RewardRule[] {
  const rules = grpoValues(train).rewards
  return Array.isArray(rules) ? (rules as RewardRule[]) : grpoConfigSchema.parse({}).rewards
}

/** Settings of preference training only. */
const PREFERENCE_ONLY = ['preferenceBeta', 'simpoMargin', 'comparisons']

const KIND_HINTS: Record<string, string> = {
  pretrain: 'Predicts every token of the text.',
  sft: "Each document a conversation (import JSONL of messages, ShareGPT conversations or prompt/response pairs). Only the assistant's replies are learned; the chat template is the tokenizer's, or Frugal's plain User:/Assistant: one.",
  dpo: 'Learns to prefer the chosen reply of each pair over the rejected one, staying close to the model it starts from (Direct Preference Optimization).',
  simpo:
    'Learns to prefer the chosen reply by its mean log-probability per token, with a margin, and no reference model (SimPO).',
  grpo: "Samples a group of replies to each prompt of a dataset of conversations, scores them with the rules below against the reference answer (the last assistant turn), and makes the replies better than their group likelier (GRPO, DeepSeek-R1's reinforcement). Start it from a model fine-tuned on the task.",
  reward:
    "Learns to score a prompt and reply (a scalar head on the model's last state) so that the chosen reply of each pair, and the higher-rated of two rated outputs of one prompt, scores higher (Bradley-Terry).",
}

/** A run whose newest checkpoint the new run uses (start, teacher, reference); '' for none. */
function SourceRunSelect(props: {
  id: string
  label: string
  none: string
  runs: RunListItem[]
  value: string
  onChange: (runId: string) => void
  hint: string
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <select
        id={props.id}
        className="select"
        value={props.value}
        aria-describedby={`${props.id}-hint`}
        onChange={(e) => props.onChange(e.target.value)}
      >
        <option value="">{props.none}</option>
        {props.runs.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name} (newest checkpoint, {r.tokenizerName ?? 'its tokenizer'})
          </option>
        ))}
      </select>
      <span className="field-hint" id={`${props.id}-hint`}>
        {props.hint}
      </span>
    </div>
  )
}
