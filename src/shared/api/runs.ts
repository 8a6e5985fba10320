import { z } from 'zod'
import { method } from './define'
import { noParams } from './common'
import type { JobRecord } from '../jobs'
import type { ExpertLoad, RunDetail, RunListItem, RunMetrics, TrainEnvironment } from '../runs'
import type { JobLogLine } from '../jobs'

const runId = z.string().trim().min(1).max(80)
/** A run's checkpoint; its newest when checkpointId is null. */
const checkpointRef = z
  .object({ runId, checkpointId: z.int().positive().nullable().default(null) })
  .strict()
  .optional()
/** Model and training settings as the form holds them: validated against the schemas in the handler. */
const settings = z.record(z.string(), z.unknown())

/** Training runs: create, control, watch, compare. */
export const runsApi = {
  'runs.list': method<RunListItem[]>()(noParams),
  'runs.get': method<RunDetail>()(z.object({ id: runId }).strict()),
  /** Create a run; invalid settings are refused with the field and the reason. */
  'runs.create': method<RunListItem>()(
    z
      .object({
        name: z.string().trim().min(1, 'Give the run a name.').max(100),
        /** null: a preference run that learns from Evaluate's A/B choices alone. */
        datasetId: z.int().positive().nullable(),
        tokenizerId: z.int().positive(),
        valFraction: z.number().min(0.001).max(0.5).default(0.1),
        model: settings,
        train: settings,
        /**
         * Start from this checkpoint's weights (a trained or imported model; newest when
         * checkpointId is null). The model settings are then that run's, and the tokenizer
         * must be the one it used.
         */
        init: checkpointRef,
        /** Distil from this checkpoint (same tokenizer); train.distillAlpha/Temperature tune it. */
        teacher: checkpointRef,
        /** train.curriculum "reference": this checkpoint's loss on each window is its difficulty. */
        reference: checkpointRef,
      })
      .strict(),
  ),
  /** Start a created run, or resume a paused, stopped or failed one from its last checkpoint. */
  'runs.start': method<JobRecord>()(z.object({ id: runId }).strict()),
  /** Save a checkpoint and stop, resumable later. */
  'runs.pause': method<JobRecord>()(z.object({ id: runId }).strict()),
  /** Stop for good (a final checkpoint is still written; the run can be resumed or forked). */
  'runs.stop': method<JobRecord>()(z.object({ id: runId }).strict()),
  /** A new run that continues from a checkpoint with changed training settings. */
  'runs.fork': method<RunListItem>()(
    z
      .object({
        id: runId,
        checkpointId: z.int().positive(),
        name: z.string().trim().min(1).max(100),
        train: settings,
      })
      .strict(),
  ),
  'runs.delete': method<RunListItem[]>()(z.object({ id: runId }).strict()),
  /** Metrics downsampled to about `maxPoints` per series (min and max per bucket, so spikes show). */
  'runs.metrics': method<RunMetrics>()(
    z
      .object({
        id: runId,
        names: z.array(z.string().max(100)).max(100).optional(),
        maxPoints: z.int().min(10).max(20_000).default(1500),
      })
      .strict(),
  ),
  'runs.expertLoad': method<ExpertLoad>()(
    z.object({ id: runId, maxPoints: z.int().min(10).max(2000).default(200) }).strict(),
  ),
  /** The training jobs' logs for a run, optionally only lines containing `query`. */
  'runs.logs': method<JobLogLine[]>()(
    z
      .object({
        id: runId,
        query: z.string().max(200).optional(),
        limit: z.int().min(1).max(20_000).default(2000),
      })
      .strict(),
  ),
  'runs.environment': method<TrainEnvironment>()(noParams),
}
