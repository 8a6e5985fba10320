import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { Store } from '../../store'
import type { RunRow } from '../../store/repos/runs'
import { UserError } from '../../shared/errors'
import { modelConfigSchema } from '../model/config'
import { trainConfigSchema } from './config'

/**
 * run.json: what `frugal train --config` reads (see docs/TRAINING.md for examples).
 *   { "name", "data": { "dataset", "tokenizer", "valFraction" }, "model": {...}, "train": {...} }
 * `tokenizer` names one in the project, or describes one to train ({ "kind", "vocabSize" }).
 * The model's vocabSize defaults to the tokenizer's.
 */
export const runFileSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    data: z
      .object({
        dataset: z.string().trim().min(1),
        tokenizer: z.union([
          z.string().trim().min(1),
          z
            .object({
              name: z.string().trim().min(1).max(100).optional(),
              kind: z.enum(['bpe', 'char']).default('bpe'),
              vocabSize: z.int().min(257).max(262_144).default(4096),
              minFrequency: z.int().min(1).default(2),
            })
            .strict(),
        ]),
        valFraction: z.number().min(0.001).max(0.5).default(0.1),
      })
      .strict(),
    model: z.record(z.string(), z.unknown()).default({}),
    train: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()

export type RunFile = z.output<typeof runFileSchema>

/** zod issues as one sentence naming the field: "model.heads: width 100 is not divisible by 3 heads". */
export function configError(error: z.ZodError, prefix: string): UserError {
  const issue = error.issues[0]
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
  return new UserError('invalid_params', `${field}: ${issue.message}`, field)
}

export function parseRunFile(raw: unknown): RunFile {
  const r = runFileSchema.safeParse(raw)
  if (!r.success) throw configError(r.error, '')
  return r.data
}

/** Validate model and training settings for a tokenizer's vocabulary; nothing runs before this passes. */
export function validateConfigs(
  model: Record<string, unknown>,
  train: Record<string, unknown>,
  vocabSize: number,
) {
  const m = modelConfigSchema.safeParse({ ...model, vocabSize: model.vocabSize ?? vocabSize })
  if (!m.success) throw configError(m.error, 'model')
  if (m.data.vocabSize < vocabSize) {
    throw new UserError(
      'invalid_params',
      `model.vocabSize: ${m.data.vocabSize} is smaller than the tokenizer's ${vocabSize} ids.`,
      'model.vocabSize',
    )
  }
  const t = trainConfigSchema.safeParse(train)
  if (!t.success) throw configError(t.error, 'train')
  return { model: m.data, train: t.data }
}

export interface RunData {
  datasetId: number
  tokenizerId: number
  valFraction: number
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'run'
  )
}

/** Create a run (status "created"): validated configs, the data it will train on. */
export function createRun(
  store: Store,
  spec: {
    name: string
    model: Record<string, unknown>
    train: Record<string, unknown>
    data: RunData
    parentRunId?: string
    parentCheckpointId?: number
  },
): RunRow {
  const tokenizer = store.tokenizers.get(spec.data.tokenizerId)
  if (!tokenizer)
    throw new UserError(
      'not_found',
      `There is no tokenizer ${spec.data.tokenizerId}.`,
      'data.tokenizer',
    )
  if (!store.datasets.get(spec.data.datasetId))
    throw new UserError('not_found', `There is no dataset ${spec.data.datasetId}.`, 'data.dataset')
  const { model, train } = validateConfigs(spec.model, spec.train, tokenizer.vocabSize)
  const id = `${slug(spec.name)}-${randomBytes(3).toString('hex')}`
  return store.runs.create(
    {
      id,
      name: spec.name,
      modelConfig: model,
      trainConfig: train,
      data: spec.data,
      tokenSetId: null,
      parentRunId: spec.parentRunId ?? null,
      parentCheckpointId: spec.parentCheckpointId ?? null,
    },
    new Date().toISOString(),
  )
}

/** When the dataset's corpus last changed (an import or a cleaning run finished). */
export function corpusChangedAt(store: Store, datasetId: number): string {
  const row = store.db
    .prepare<[number, number], { at: string | null }>(
      `SELECT MAX(at) AS at FROM (
         SELECT finished_at AS at FROM imports WHERE dataset_id = ? AND state = 'done'
         UNION ALL SELECT finished_at FROM clean_runs WHERE dataset_id = ? AND state = 'done')`,
    )
    .get(datasetId, datasetId)
  return row?.at ?? ''
}
