import { z } from 'zod'
import { exportDtypes, exportFormats, refineExport } from '../export'
import { method } from './define'
import { filePath } from './common'
import { jobParams, type JobRecord } from '../jobs'

const runId = z.string().trim().min(1).max(80)
/** The run's newest checkpoint when null or left out. */
const checkpointId = z.int().positive().nullable().default(null)

/** One stored evaluation of a checkpoint (perplexity or multiple choice). */
export interface EvalRecord {
  id: number
  runId: string
  checkpointId: number | null
  step: number
  kind: 'perplexity' | 'mc'
  params: Record<string, unknown>
  result: Record<string, unknown>
  createdAt: string
}

/**
 * Trained checkpoints: evaluate, generate, inspect, export. Every method starts a job in a
 * worker (the model runs there); results arrive as the job's events and result.
 */
export const modelsApi = {
  /** A run's stored evaluations, newest first. */
  'models.evals': method<EvalRecord[]>()(z.object({ runId }).strict()),
  /** Perplexity on the run's validation split (datasetId null) or on a whole dataset. */
  'models.perplexity': method<JobRecord>()(
    z
      .object({
        runId,
        checkpointId,
        datasetId: z.int().positive().nullable().default(null),
        maxTokens: z.int().min(1).max(100_000_000).default(1_000_000),
      })
      .strict(),
  ),
  /** Multiple-choice accuracy on a folder of MMLU-layout CSV files. */
  'models.mc': method<JobRecord>()(
    z
      .object({
        runId,
        checkpointId,
        data: filePath,
        shots: z.int().min(0).max(10).default(0),
        limit: z.int().min(1).nullable().default(null),
      })
      .strict(),
  ),
  /** Text after a prompt; the pieces stream as `job.output` events. */
  'models.generate': method<JobRecord>()(jobParams['model.generate']),
  /** Attention and expert routing over a prompt's first tokens. */
  'models.inspect': method<JobRecord>()(jobParams['model.inspect']),
  /** Replies to a prompt ranked by a reward model (a run of kind "reward"), best first. */
  'models.score': method<JobRecord>()(jobParams['model.score']),
  /**
   * Bring a model folder (config.json, model.safetensors, tokenizer.json) into the project
   * as a run with one checkpoint: one Frugal exported, or any whose config Frugal can run.
   */
  'models.import': method<JobRecord>()(
    z
      .object({ path: filePath, name: z.string().trim().min(1, 'Name the model.').max(100) })
      .strict(),
  ),
  /** Write a checkpoint as a Hugging Face model folder (new or empty) or a GGUF file (new). */
  'models.export': method<JobRecord>()(
    z
      .object({
        runId,
        checkpointId,
        out: filePath,
        /** A Hugging Face folder, or one GGUF file for llama.cpp, Ollama and LM Studio. */
        format: z.enum(exportFormats).default('hf'),
        /** hf: fp32, bf16, fp16; gguf: fp32, fp16, q8_0. */
        dtype: z.enum(exportDtypes).default('fp32'),
      })
      .strict()
      .superRefine(refineExport),
  ),
}
