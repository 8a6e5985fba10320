import { z } from 'zod'
import {
  exportDtypes,
  exportFormats,
  refineExport,
  type ExportDtype,
  type ExportFormat,
} from './export'
import type { ApiError } from './errors'
import type { BackendInfo } from './types'
import { ruleSetSchema } from './data/rules'
import {
  generateOptionsSchema,
  type GenerateResult,
  type PromptInspection,
  type ScoredReply,
} from './generate'
import {
  importFormats,
  type CleanSummary,
  type ImportReport,
  type QualityModelInfo,
} from './data/types'

/**
 * One kind of job a worker process can run, defined in one place: everything the app, the
 * CLI and the worker need to know about it. Its handler (src/worker/jobs) is the other
 * half; its result type is `JobResults[kind]`.
 */
export interface JobKindDefinition {
  /** Validated in main before the job starts, and again in the worker. */
  params: z.ZodType
  /** For the status bar and job lists. */
  title: string
  /** Reads or writes the open project (the others concern the machine only). */
  needsProject: boolean
  /**
   * Whether any caller may start it through `jobs.start`. The others write or read files
   * the user names, or change a dataset or run, so they go through their own methods,
   * which check the paths (absolute, not overwriting unless asked) and the state first.
   */
  startable: boolean
  /** Reads or rewrites a whole dataset: one such job at a time per dataset. */
  holdsDataset: boolean
  /** What its handler returns (`declareResult<T>()`); `JobResults[kind]` reads it. */
  result: ResultType<unknown>
  /** How long a cancelled job may take to stop before its worker is killed (default 5 s). */
  cancelGraceMs?: number
  /**
   * What must hold before it starts, checked in one place (main/jobs/preconditions.ts) for
   * the app and the CLI alike, so both refuse the same things with the same words.
   */
  checks?: readonly JobCheck[]
}

/**
 * Preconditions a job kind can declare:
 * - `datasetIdle`: no other job holds its dataset (`datasetId`, or the `dataset` an import
 *   writes into);
 * - `newJsonlFile`: `out` is a new .jsonl file in an existing folder (or `overwrite`);
 * - `newModelOutput`: `out` is a new GGUF file, or a new or empty folder, as `format` needs;
 * - `checkpoint`: the run `runId` exists and has the checkpoint `checkpointId` (null: any);
 * - `rewardModel`: that run is a reward model (trained with the kind "reward").
 * Output checks also resolve `out` to the path the job writes.
 */
export const jobChecks = [
  'datasetIdle',
  'newJsonlFile',
  'newModelOutput',
  'checkpoint',
  'rewardModel',
] as const
export type JobCheck = (typeof jobChecks)[number]

/**
 * A kind's result type, declared in its definition (`result: declareResult<T>()`): a
 * value that carries the type for the compiler and nothing at run time. Declared rather
 * than inferred from the handler, so that the contract depends on nothing and the renderer
 * reads it without reaching into worker code; the handler is typed by it.
 */
export interface ResultType<T> {
  readonly __result?: T
}
export const declareResult = <T>(): ResultType<T> => ({})

/** Replies one `model.score` job ranks at most (the playground's best-of-n samples). */
export const MAX_SCORED_REPLIES = 16

/** Keeps each kind's own params type, and the optional fields on every kind. */
const defineJobKinds = <T extends Record<string, JobKindDefinition>>(
  kinds: T,
): { [K in keyof T]: T[K] & JobKindDefinition } => kinds

/** Every kind of job: see JobKindDefinition. Adding one: an entry here and its handler (src/worker/jobs). */
export const jobKindDefinitions = defineJobKinds({
  /** Load tfjs, pick the best backend and report it. Runs at start-up. */
  'backend.probe': {
    params: z.object({}).strict(),
    result: declareResult<BackendInfo>(),
    title: 'Detect compute backend',
    needsProject: false,
    startable: false,
    holdsDataset: false,
  },
  /** Time square matmuls on the chosen backend: a quick "how fast is this machine". */
  'backend.benchmark': {
    params: z
      .object({
        seconds: z.number().min(0.5).max(600).default(5),
        size: z.int().min(32).max(4096).default(512),
      })
      .strict(),
    result: declareResult<{
      backend: string
      size: number
      iterations: number
      /** Median over the timed iterations. */
      gflops: number
      bestGflops: number
    }>(),
    title: 'Measure backend speed',
    needsProject: false,
    startable: true,
    holdsDataset: false,
  },
  /** Count a dataset's documents and characters, streaming in batches. */
  'dataset.count': {
    params: z.object({ datasetId: z.int().positive() }).strict(),
    result: declareResult<{ datasetId: number; documents: number; characters: number }>(),
    title: 'Count documents',
    needsProject: true,
    startable: true,
    holdsDataset: false,
  },
  /** SQLite `PRAGMA integrity_check` plus the foreign-key check, off the main process. */
  'project.integrityCheck': {
    params: z.object({}).strict(),
    result: declareResult<{ ok: boolean; problems: string[] }>(),
    title: 'Check project integrity',
    needsProject: true,
    startable: true,
    holdsDataset: false,
  },
  /** Stream files or folders into a dataset (created if new); undone if cancelled. */
  'data.import': {
    params: z
      .object({
        dataset: z.string().trim().min(1, 'Name the dataset.').max(200),
        paths: z.array(z.string().min(1).max(4096)).min(1, 'Choose at least one file.').max(1000),
        format: z.enum(importFormats).default('auto'),
        /** JSONL, CSV and Parquet: the field holding the text; others become metadata. */
        textField: z.string().trim().min(1).max(200).optional(),
      })
      .strict(),
    result: declareResult<ImportReport>(),
    title: 'Import data',
    needsProject: true,
    startable: false,
    holdsDataset: true,
    checks: ['datasetIdle'],
  },
  /** Run the cleaning rules, deduplication and the quality model over a dataset. */
  'data.clean': {
    params: z
      .object({
        datasetId: z.int().positive(),
        /** Inline rules (CLI --rules); otherwise the dataset's saved rule set, or the defaults. */
        rules: ruleSetSchema.optional(),
      })
      .strict(),
    result: declareResult<CleanSummary & { datasetId: number }>(),
    title: 'Clean dataset',
    needsProject: true,
    startable: false,
    holdsDataset: true,
    checks: ['datasetIdle'],
  },
  /** Retrain a dataset's quality model on the current labels and rescore its documents. */
  'data.quality': {
    params: z.object({ datasetId: z.int().positive() }).strict(),
    result: declareResult<{
      datasetId: number
      model: QualityModelInfo
      /** Documents whose status the new scores changed. */
      changed: number
    }>(),
    title: 'Retrain quality model',
    needsProject: true,
    startable: false,
    holdsDataset: true,
    checks: ['datasetIdle'],
  },
  /** Delete a dataset marked for deletion, its documents a chunk at a time. */
  'data.delete': {
    params: z.object({ datasetId: z.int().positive() }).strict(),
    result: declareResult<{ datasetId: number; name: string; documents: number }>(),
    title: 'Delete dataset',
    needsProject: true,
    startable: false,
    holdsDataset: true,
    checks: ['datasetIdle'],
  },
  /** Write a dataset's documents as JSON Lines (cleaned text, status, reasons). */
  'data.export': {
    params: z
      .object({
        datasetId: z.int().positive(),
        status: z.enum(['kept', 'removed', 'review', 'all']).default('kept'),
        /** Absolute path of the .jsonl file. */
        out: z.string().min(1).max(4096),
        /** Replace the file if it exists; otherwise an existing file is an error. */
        overwrite: z.boolean().default(false),
      })
      .strict(),
    result: declareResult<{ datasetId: number; path: string; documents: number }>(),
    title: 'Export dataset',
    needsProject: true,
    startable: false,
    holdsDataset: true,
    checks: ['newJsonlFile'],
  },
  /** Train a tokenizer on a dataset's corpus and store it in the project. */
  'tokenizer.train': {
    params: z
      .object({
        datasetId: z.int().positive(),
        name: z.string().trim().min(1).max(100),
        kind: z.enum(['bpe', 'char']).default('bpe'),
        vocabSize: z.int().min(257).max(262_144).default(4096),
        minFrequency: z.int().min(1).default(2),
      })
      .strict(),
    result: declareResult<{
      tokenizerId: number
      name: string
      vocabSize: number
      seconds: number
      bytesPerToken: number
    }>(),
    title: 'Train tokenizer',
    needsProject: true,
    startable: true,
    holdsDataset: false,
  },
  /** Encode a dataset's corpus with a tokenizer into train/validation token shards. */
  'tokens.encode': {
    params: z
      .object({
        datasetId: z.int().positive(),
        tokenizerId: z.int().positive(),
        valFraction: z.number().min(0.001).max(0.5).default(0.1),
      })
      .strict(),
    result: declareResult<{
      tokenSetId: number
      trainTokens: number
      valTokens: number
      trainDocs: number
      valDocs: number
      splitBy: 'document' | 'position'
      megabytesPerSecond: number
    }>(),
    title: 'Encode dataset',
    needsProject: true,
    startable: true,
    holdsDataset: false,
  },
  /** Time a few steps of a configuration on this machine's backend, for the run form's estimate. */
  'train.calibrate': {
    params: z
      .object({
        model: z.record(z.string(), z.unknown()),
        train: z.record(z.string(), z.unknown()),
        /** Most steps timed (after two warm-up steps); timing also stops after about 8 s. */
        steps: z.int().min(1).max(30).default(12),
      })
      .strict(),
    result: declareResult<{
      msPerStep: number
      tokensPerSecond: number
      threads: number
      backend: string
      peakBytes: number
    }>(),
    title: 'Time a training step',
    needsProject: false,
    startable: true,
    holdsDataset: false,
  },
  /** Write a dataset's reviewed documents (decision, labels, note, time) as JSON Lines. */
  'review.export': {
    params: z
      .object({
        datasetId: z.int().positive(),
        out: z.string().min(1).max(4096),
        overwrite: z.boolean().default(false),
      })
      .strict(),
    result: declareResult<{ datasetId: number; path: string; documents: number }>(),
    title: 'Export review decisions',
    needsProject: true,
    startable: false,
    holdsDataset: false,
    checks: ['newJsonlFile'],
  },
  /** Write ratings, preferences or preference pairs as JSON Lines. */
  'ratings.export': {
    params: z
      .object({
        kind: z.enum(['ratings', 'preferences', 'pairs']),
        out: z.string().min(1).max(4096),
        overwrite: z.boolean().default(false),
      })
      .strict(),
    result: declareResult<{ path: string; records: number }>(),
    title: 'Export ratings',
    needsProject: true,
    startable: false,
    holdsDataset: false,
    checks: ['newJsonlFile'],
  },
  /** Write a checkpoint as a Hugging Face model folder (safetensors, config, tokenizer, card) or a GGUF file. */
  'model.export': {
    params: z
      .object({
        runId: z.string().min(1).max(64),
        /** The run's newest checkpoint when omitted. */
        checkpointId: z.int().positive().nullable().default(null),
        /** Absolute path of a new (or empty) folder. */
        out: z.string().min(1).max(4096),
        /** A Hugging Face folder, or one GGUF file for llama.cpp, Ollama and LM Studio. */
        format: z.enum(exportFormats).default('hf'),
        /** hf: fp32, bf16, fp16; gguf: fp32, fp16, q8_0. */
        dtype: z.enum(exportDtypes).default('fp32'),
      })
      .strict()
      .superRefine(refineExport),
    result: declareResult<{
      format: ExportFormat
      /** The folder written (hf, peft), or the folder holding the file (gguf). */
      dir: string
      files: string[]
      bytes: number
      dtype: ExportDtype
      parameters: number
      /**
       * GGUF q8_0: validation perplexity with the float32 weights and with the file's, when
       * the run has encoded validation data (an imported model has none).
       */
      quantization: ExportQuantization | null
    }>(),
    title: 'Export model',
    needsProject: true,
    startable: false,
    holdsDataset: false,
    checks: ['checkpoint', 'newModelOutput'],
  },
  /** Perplexity of a checkpoint on the run's validation split, or on a whole dataset. */
  'eval.perplexity': {
    params: z
      .object({
        runId: z.string().min(1).max(64),
        checkpointId: z.int().positive().nullable().default(null),
        /** A dataset to measure on (all of it); null: the run's own validation split. */
        datasetId: z.int().positive().nullable().default(null),
        maxTokens: z.int().min(1).max(100_000_000).default(1_000_000),
      })
      .strict(),
    result: declareResult<
      PerplexityResult & {
        evalId: number
        runId: string
        checkpointId: number
        step: number
        /** What it was measured on. */
        on: string
      }
    >(),
    title: 'Measure perplexity',
    needsProject: true,
    startable: true,
    holdsDataset: false,
    checks: ['checkpoint'],
  },
  /** Multiple-choice accuracy on a folder of MMLU-layout CSV files. */
  'eval.mc': {
    params: z
      .object({
        runId: z.string().min(1).max(64),
        checkpointId: z.int().positive().nullable().default(null),
        /** Absolute path of the folder (MMLU's test/ and dev/, or CSV files). */
        data: z.string().min(1).max(4096),
        /** Solved dev examples before each question (k-shot). */
        shots: z.int().min(0).max(10).default(0),
        /** Questions per subject at most. */
        limit: z.int().min(1).nullable().default(null),
      })
      .strict(),
    result: declareResult<McEvalResult>(),
    title: 'Score a multiple-choice benchmark',
    needsProject: true,
    startable: false,
    holdsDataset: false,
    checks: ['checkpoint'],
  },
  /** Text after a prompt from a checkpoint; the tokens stream as `job.output` events. */
  'model.generate': {
    params: z
      .object({
        runId: z.string().min(1).max(64),
        checkpointId: z.int().positive().nullable().default(null),
        prompt: z.string().min(1, 'Write a prompt.').max(20_000),
        options: generateOptionsSchema.default(generateOptionsSchema.parse({})),
      })
      .strict(),
    result: declareResult<GenerateResult & { runId: string; checkpointId: number; step: number }>(),
    title: 'Generate text',
    needsProject: true,
    startable: false,
    holdsDataset: false,
    checks: ['checkpoint'],
  },
  /** Attention and expert routing of one forward pass over a (short) prompt. */
  'model.inspect': {
    params: z
      .object({
        runId: z.string().min(1).max(64),
        checkpointId: z.int().positive().nullable().default(null),
        prompt: z.string().min(1, 'Write a prompt.').max(2000),
      })
      .strict(),
    result: declareResult<PromptInspection>(),
    title: 'Inspect attention and routing',
    needsProject: true,
    startable: false,
    holdsDataset: false,
    checks: ['checkpoint'],
  },
  /**
   * Replies to one prompt scored by a reward model (a run trained with kind "reward"), best
   * first: the playground's best-of-n ranks its samples with it.
   */
  'model.score': {
    params: z
      .object({
        runId: z.string().min(1).max(64),
        checkpointId: z.int().positive().nullable().default(null),
        prompt: z.string().min(1, 'Write a prompt.').max(20_000),
        replies: z
          .array(z.string().max(20_000))
          .min(1, 'Give at least one reply to score.')
          .max(MAX_SCORED_REPLIES, `Score at most ${MAX_SCORED_REPLIES} replies at once.`),
        /** The prompt is a user's message and each reply the assistant's (the chat template). */
        chat: z.boolean().default(false),
      })
      .strict(),
    result: declareResult<{
      runId: string
      checkpointId: number
      step: number
      /** Best first; `index` is the reply's place in the request. */
      ranked: ScoredReply[]
    }>(),
    title: 'Score replies with a reward model',
    needsProject: true,
    startable: false,
    holdsDataset: false,
    checks: ['checkpoint', 'rewardModel'],
  },
  /** Bring a Hugging Face model folder into the project as a run with one checkpoint. */
  'model.import': {
    params: z
      .object({
        /** Absolute path of the folder (config.json, model.safetensors, tokenizer.json). */
        path: z.string().min(1).max(4096),
        name: z.string().trim().min(1, 'Name the model.').max(100),
      })
      .strict(),
    result: declareResult<{
      runId: string
      name: string
      checkpointId: number
      tokenizerId: number
      tokenizerName: string
      parameters: number
      /** The file's weight types (int8 ones dequantized on import). */
      dtype: string
    }>(),
    title: 'Import a model',
    needsProject: true,
    startable: false,
    holdsDataset: false,
  },
  /** Train (or resume) a run until its last step, a stop or a pause. */
  'train.run': {
    params: z.object({ runId: z.string().min(1).max(64) }).strict(),
    result: declareResult<{
      runId: string
      status: 'completed' | 'stopped' | 'paused'
      step: number
      trainLoss: number | null
      valLoss: number | null
      bestValLoss: number | null
      tokensPerSec: number
      wallMs: number
      backend: string
      checkpoint: { id: number; kind: string; rawBytes: number; storedBytes: number } | null
    }>(),
    title: 'Train model',
    needsProject: true,
    startable: false,
    holdsDataset: false,
    // Training writes a final checkpoint first, which for a large model takes a while.
    cancelGraceMs: 120_000,
  },
})

export type JobKind = keyof typeof jobKindDefinitions
export const jobKinds = Object.keys(jobKindDefinitions) as JobKind[]

/** Each kind's params schema (from its definition). */
export const jobParams = Object.fromEntries(
  jobKinds.map((kind) => [kind, jobKindDefinitions[kind].params]),
) as { [K in JobKind]: (typeof jobKindDefinitions)[K]['params'] }

/** Each kind's result type (its definition's `result`): what its handler must return. */
export type JobResults = {
  [K in JobKind]: (typeof jobKindDefinitions)[K]['result'] extends ResultType<infer R> ? R : never
}

/** Multiple-choice accuracy (see worker/infer/multiple-choice.ts). */
export interface McEvalResult {
  evalId: number
  runId: string
  checkpointId: number
  step: number
  shots: number
  subjects: { name: string; questions: number; correct: number; accuracy: number; chance: number }[]
  overall: { questions: number; correct: number; accuracy: number; chance: number }
  lengthNormalized: { correct: number; accuracy: number }
  /** Rows of the files that could not be read. */
  problems: { file: string; line: number; message: string }[]
  wallMs: number
}

/** Perplexity over a token stream (see worker/infer/perplexity.ts). */
/** What quantizing cost: validation perplexity with the float32 weights and the file's. */
export interface ExportQuantization {
  dtype: 'q8_0'
  fp32: PerplexityResult
  quantized: PerplexityResult
}

export interface PerplexityResult {
  loss: number
  perplexity: number
  tokens: number
  wallMs: number
}

export type JobParamsIn<K extends JobKind> = z.input<(typeof jobParams)[K]>
export type JobParamsOut<K extends JobKind> = z.output<(typeof jobParams)[K]>

export const jobStates = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type JobState = (typeof jobStates)[number]
export const finishedJobStates: readonly JobState[] = ['succeeded', 'failed', 'cancelled']

/** Whether a job in this state has stopped (succeeded, failed or cancelled). */
export const isFinished = (state: JobState): boolean => finishedJobStates.includes(state)

export const jobProgressSchema = z.object({
  /** Units done so far (documents, bytes, steps...). */
  done: z.number().nonnegative(),
  /** Total units when known; null for open-ended work. */
  total: z.number().nonnegative().nullable(),
  unit: z.string().max(40),
  message: z.string().max(500).optional(),
  /** Small live measurements to show next to the bar (e.g. GFLOP/s). */
  metrics: z.record(z.string(), z.number()).optional(),
})
export type JobProgress = z.infer<typeof jobProgressSchema>

export interface JobRecord {
  id: string
  kind: JobKind
  params: unknown
  state: JobState
  progress: JobProgress | null
  result: unknown
  error: ApiError | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

/** Whether a job holds this dataset: a data job on its id, or an import into its name. */
export function jobHoldsDataset(
  job: Pick<JobRecord, 'kind' | 'params'>,
  datasetId: number | null,
  name: string | null,
): boolean {
  if (!jobKindDefinitions[job.kind].holdsDataset) return false
  const p = job.params as { datasetId?: number; dataset?: string }
  return (datasetId !== null && p.datasetId === datasetId) || (name !== null && p.dataset === name)
}

/** What a caller passes to `jobs.start` (defaults may be omitted). */
export type StartJobRequest = {
  [K in JobKind]: { kind: K; params: JobParamsIn<K> }
}[JobKind]

/** The same after validation, defaults filled in. */
export type StartJob = {
  [K in JobKind]: { kind: K; params: JobParamsOut<K> }
}[JobKind]

/** Params of `jobs.start`: one object per kind, discriminated by `kind`. */
export const startJobSchema = z.discriminatedUnion(
  'kind',
  // One variant per kind; the cast restores the per-kind typing the map loses.
  jobKinds.map((kind) =>
    z.object({ kind: z.literal(kind), params: jobParams[kind] }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<StartJob, StartJobRequest>

export interface JobLogLine {
  at: string
  level: 'info' | 'warn' | 'error'
  message: string
}

/** The fraction done, or null when the total is unknown. */
export function progressFraction(p: JobProgress | null): number | null {
  if (!p || p.total === null || p.total === 0) return null
  return Math.min(1, p.done / p.total)
}
