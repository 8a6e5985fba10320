import { z } from 'zod'
import type { ApiError } from './errors'
import type { BackendInfo } from './types'

/**
 * Every kind of job a worker process can run: its params schema (validated in main
 * before the job starts, and again in the worker) and its result type.
 */
export const jobParams = {
  /** Load tfjs, pick the best backend and report it. Runs at start-up. */
  'backend.probe': z.object({}).strict(),
  /** Time square matmuls on the chosen backend: a quick "how fast is this machine". */
  'backend.benchmark': z
    .object({
      seconds: z.number().min(0.5).max(600).default(5),
      size: z.int().min(32).max(4096).default(512),
    })
    .strict(),
  /** Count a dataset's documents and characters, streaming in batches. */
  'dataset.count': z.object({ datasetId: z.int().positive() }).strict(),
  /** SQLite `PRAGMA integrity_check` plus the foreign-key check, off the main process. */
  'project.integrityCheck': z.object({}).strict(),
} as const

export type JobKind = keyof typeof jobParams
export const jobKinds = Object.keys(jobParams) as JobKind[]

/** Jobs that read or write the open project; the others concern the machine only. */
export const jobNeedsProject: Record<JobKind, boolean> = {
  'backend.probe': false,
  'backend.benchmark': false,
  'dataset.count': true,
  'project.integrityCheck': true,
}

/** Titles for the status bar and job lists. */
export const jobTitles: Record<JobKind, string> = {
  'backend.probe': 'Detect compute backend',
  'backend.benchmark': 'Measure backend speed',
  'dataset.count': 'Count documents',
  'project.integrityCheck': 'Check project integrity',
}

export interface JobResults {
  'backend.probe': BackendInfo
  'backend.benchmark': {
    backend: string
    size: number
    iterations: number
    /** Median over the timed iterations. */
    gflops: number
    bestGflops: number
  }
  'dataset.count': { datasetId: number; documents: number; characters: number }
  'project.integrityCheck': { ok: boolean; problems: string[] }
}

export type JobParamsIn<K extends JobKind> = z.input<(typeof jobParams)[K]>
export type JobParamsOut<K extends JobKind> = z.output<(typeof jobParams)[K]>

export const jobStates = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type JobState = (typeof jobStates)[number]
export const finishedJobStates: readonly JobState[] = ['succeeded', 'failed', 'cancelled']

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
