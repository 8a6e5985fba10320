import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { Store } from '../../store'
import type { RunData, RunRow } from '../../store/repos/runs'
import { UserError } from '../../shared/errors'
import { modelConfigSchema, type ModelConfig } from '../model/config'
import { adaptedWeights } from '../model/lora'
import {
  grpoSettings,
  isPolicyRun,
  isPreferenceRun,
  isRewardRun,
  trainConfigSchema,
  type TrainConfig,
} from './config'
import { RewardRules } from '../grpo/rewards'
import { templateError } from '../sft/chat-template'
import { fineTuningTemplate } from '../sft/templates'
import { extendedTokenizer } from '../sft/chat-tokenizer'

/**
 * run.json: what `frugal train --config` reads (see docs/TRAINING.md for examples).
 *   { "name", "data": { "dataset", "tokenizer", "valFraction" }, "model": {...}, "train": {...} }
 * `tokenizer` names one in the project, or describes one to train ({ "kind", "vocabSize" }).
 * The model's vocabSize defaults to the tokenizer's.
 */
/** Another run's checkpoint in run.json: the run by name or id, its newest checkpoint by default. */
const checkpointRef = z
  .object({ run: z.string().trim().min(1), checkpoint: z.int().positive().optional() })
  .strict()
  .optional()

export const runFileSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    data: z
      .object({
        /** Omitted only by a preference run that learns from Evaluate's A/B choices alone. */
        dataset: z.string().trim().min(1).optional(),
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
    /**
     * Start from another run's checkpoint (its weights; the model settings are then that
     * run's): a trained or imported model. `run` is a name or id; the newest checkpoint
     * unless `checkpoint` names one.
     */
    init: checkpointRef,
    /** Distil from this run's checkpoint (same tokenizer); knobs in train.distill*. */
    teacher: checkpointRef,
    /** train.curriculum "reference": this checkpoint's loss is each window's difficulty. */
    reference: checkpointRef,
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
  if (t.data.distillCache && t.data.distillHiddenWeight > 0)
    throw new UserError(
      'invalid_params',
      "train.distillCache: the cache keeps the teacher's predictions, not its hidden states; turn hidden-state alignment off or let the teacher run alongside.",
      'train.distillCache',
    )
  if (t.data.sequenceLength !== null && t.data.sequenceLength > m.data.contextLength)
    throw new UserError(
      'invalid_params',
      `train.sequenceLength: ${t.data.sequenceLength} is longer than the model's context (${m.data.contextLength} tokens).`,
      'train.sequenceLength',
    )
  if (t.data.kind !== 'pretrain') postTrainingCompatible(t.data)
  return { model: m.data, train: t.data }
}

/**
 * What post-training cannot combine with: its batches are packed conversations (or pairs)
 * of the full context, so nothing that reshapes or reorders windows of a token stream
 * applies; a preference batch is scored as a whole, so it stays on one thread.
 */
function postTrainingCompatible(t: TrainConfig): void {
  const refuse = (field: string, why: string) => {
    throw new UserError('invalid_params', `train.${field}: ${why}`, `train.${field}`)
  }
  const packed = 'fine-tuning packs whole conversations into full-length sequences'
  if (t.curriculum !== 'off')
    refuse('curriculum', 'a curriculum orders pretraining windows; turn it off for fine-tuning.')
  if (t.contextWarmupSteps > 0)
    refuse('contextWarmupSteps', `${packed}; turn the progressive context off.`)
  if (t.batchWarmupSteps > 0)
    refuse('batchWarmupSteps', `${packed}; turn the progressive batch off.`)
  if (t.tokenBudget !== null) refuse('tokenBudget', `${packed}; give a batch size instead.`)
  if (t.distillCache) refuse('distillCache', 'distillation is for pretraining runs.')
  if (isPreferenceRun(t) && t.threads !== null && t.threads > 1)
    refuse('threads', 'preference training runs on one thread.')
  if (isPolicyRun(t) && t.threads !== null && t.threads > 1)
    refuse('threads', "GRPO runs on one thread (a group's replies are weighed together).")
  // A pattern that does not compile is refused now, with its field, not at the first step.
  if (isPolicyRun(t)) new RewardRules(grpoSettings(t).rewards)
  if (isRewardRun(t) && t.lora)
    refuse('lora', 'a reward model trains every weight with its new scalar head; turn LoRA off.')
}

/**
 * What LoRA needs: a trained model to adapt (its weights stay frozen), some weight of it the
 * targets name, and one thread (replicas would each hold the whole base); and what it
 * cannot combine with: distillation's projections and QAT train the weights themselves.
 */
function loraCompatible(t: TrainConfig, data: RunData, model: ModelConfig): void {
  const refuse = (field: string, why: string) => {
    throw new UserError('invalid_params', `${field}: ${why}`, field)
  }
  if (!data.init)
    refuse(
      'init',
      'LoRA adapts a trained model: choose the checkpoint the run starts from (or train every weight).',
    )
  if (adaptedWeights(model, t.lora!.targets).length === 0)
    refuse(
      'train.lora.targets',
      `the model has no ${t.lora!.targets.join(' or ')} weights to adapt (${model.moe ? 'its feed-forward layers are experts' : 'it has no experts'}).`,
    )
  if (t.threads !== null && t.threads > 1) refuse('train.threads', 'LoRA runs train on one thread.')
  if (data.teacher) refuse('teacher', 'distillation trains every weight; turn LoRA off for it.')
  if (t.qatStart !== null)
    refuse(
      'train.qatStart',
      'quantization-aware training trains the weights themselves; turn LoRA off for it.',
    )
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

/**
 * The run and checkpoint a new run starts from, checked: it must exist and share the
 * tokenizer (token ids mean the same text only under the same tokenizer).
 */
function initSource(
  store: Store,
  init: { runId: string; checkpointId: number },
  tokenizerId: number,
  role: 'starts from' | 'learns from' | 'is scored by' = 'starts from',
): RunRow {
  const source = store.runs.get(init.runId)
  if (!source) throw new UserError('not_found', `There is no run ${init.runId}.`, 'init.runId')
  const checkpoint = store.checkpoints.get(init.checkpointId)
  if (!checkpoint || checkpoint.runId !== source.id)
    throw new UserError(
      'not_found',
      `Run "${source.name}" has no checkpoint ${init.checkpointId}.`,
      'init.checkpointId',
    )
  const sourceTokenizer = source.data.tokenizerId
  // A run may start from a model on a tokenizer that extends the model's (chat tokens added
  // after its last id): the old ids mean the same text, and the run adds embedding rows.
  const extension =
    role === 'starts from' && extendedTokenizer(store, tokenizerId) === sourceTokenizer
  if (sourceTokenizer !== tokenizerId && !extension) {
    const name = store.tokenizers.get(sourceTokenizer)?.name ?? `tokenizer ${sourceTokenizer}`
    throw new UserError(
      'invalid_params',
      `"${source.name}" was trained with the tokenizer "${name}": a run that ${role} it must use the same one.`,
      'tokenizerId',
    )
  }
  return source
}

/**
 * A GRPO run's `reward-model` rules, each resolved to a reward run (by id or name) and
 * pinned to its checkpoint (the newest unless one is given), so the run always scores with
 * the same model; refused when that run is not a reward model or has another tokenizer.
 */
function pinRewardModels(store: Store, train: TrainConfig, tokenizerId: number): TrainConfig {
  const grpo = grpoSettings(train)
  const rewards = grpo.rewards.map((rule, i) => {
    if (rule.kind !== 'reward-model') return rule
    const field = `train.grpo.rewards.${i}`
    const ref = resolveInit(store, rule.run, rule.checkpoint, field)
    const source = initSource(store, ref, tokenizerId, 'is scored by')
    if ((source.trainConfig as { kind?: unknown }).kind !== 'reward')
      throw new UserError(
        'invalid_params',
        `${field}.run: "${source.name}" is not a reward model: train one with train.kind "reward".`,
        `${field}.run`,
      )
    return { ...rule, run: ref.runId, checkpoint: ref.checkpointId }
  })
  return { ...train, grpo: { ...grpo, rewards } }
}

/** A run (by id, or by a name only one run has) and one of its checkpoints (default: newest). */
export function resolveInit(
  store: Store,
  run: string,
  checkpointId: number | null,
  /** The run-file field the run is named in: 'init', 'teacher', 'reference' or a reward rule's. */
  field: string = 'init',
): { runId: string; checkpointId: number } {
  const named = store.runs.get(run)
    ? [store.runs.get(run)!]
    : store.runs.list().filter((r) => r.name === run)
  if (named.length !== 1)
    throw new UserError(
      'not_found',
      named.length > 1
        ? `Several runs are named "${run}": give the run's id.`
        : `There is no run "${run}".`,
      `${field}.run`,
    )
  const source = named[0]
  const checkpoint =
    checkpointId === null
      ? store.checkpoints.latest(source.id)
      : store.checkpoints.get(checkpointId)
  if (!checkpoint || checkpoint.runId !== source.id)
    throw new UserError(
      'not_found',
      checkpointId === null
        ? `Run "${source.name}" has no checkpoint yet.`
        : `Run "${source.name}" has no checkpoint ${checkpointId}.`,
      `${field}.checkpoint`,
    )
  return { runId: source.id, checkpointId: checkpoint.id }
}

/** run.json's init, teacher and reference, each resolved to a run and checkpoint. */
export function checkpointRefs(
  store: Store,
  file: Pick<RunFile, 'init' | 'teacher' | 'reference'>,
): Pick<RunData, 'init' | 'teacher' | 'reference'> {
  const out: Pick<RunData, 'init' | 'teacher' | 'reference'> = {}
  for (const field of ['init', 'teacher', 'reference'] as const) {
    const ref = file[field]
    if (ref) out[field] = resolveInit(store, ref.run, ref.checkpoint ?? null, field)
  }
  return out
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
  const preference = isPreferenceRun(
    trainConfigSchema.safeParse(spec.train).data ?? { kind: 'pretrain' },
  )
  // A preference run may learn from Evaluate's A/B choices alone.
  if (spec.data.datasetId === null && !preference)
    throw new UserError(
      'invalid_params',
      "data.dataset: choose the dataset to train on (only a preference run may learn from Evaluate's A/B choices alone).",
      'data.dataset',
    )
  if (spec.data.datasetId !== null && !store.datasets.get(spec.data.datasetId))
    throw new UserError('not_found', `There is no dataset ${spec.data.datasetId}.`, 'data.dataset')
  const init = spec.data.init ? initSource(store, spec.data.init, spec.data.tokenizerId) : null
  if (spec.data.teacher) initSource(store, spec.data.teacher, spec.data.tokenizerId, 'learns from')
  if (spec.data.reference)
    initSource(store, spec.data.reference, spec.data.tokenizerId, 'is scored by')
  // A run that starts from a checkpoint has that checkpoint's architecture (with a row for
  // each token its tokenizer adds to the checkpoint's: initWeights grows them).
  const grown = init !== null && init.data.tokenizerId !== spec.data.tokenizerId
  const configs = validateConfigs(
    init
      ? {
          ...(init.modelConfig as Record<string, unknown>),
          ...(grown ? { vocabSize: tokenizer.vocabSize } : {}),
        }
      : spec.model,
    spec.train,
    tokenizer.vocabSize,
  )
  if (grown && configs.train.lora)
    throw new UserError(
      'invalid_params',
      `train.lora: the tokenizer adds tokens the model has no embedding for, and LoRA keeps the embedding frozen: fine-tune every weight (leave train.lora out), or use the model's own tokenizer.`,
      'train.lora',
    )
  const model = configs.model
  let train = configs.train
  if (train.curriculum === 'reference' && !spec.data.reference && !spec.data.teacher)
    throw new UserError(
      'invalid_params',
      'A "reference" curriculum scores the data with a trained model: choose the curriculum reference (or a teacher), or use "unigram".',
      'reference',
    )
  let data = spec.data
  if (preference && data.datasetId === null && !train.comparisons)
    throw new UserError(
      'invalid_params',
      "A preference run needs pairs: choose a dataset of prompt/chosen/rejected records, or learn from Evaluate's A/B choices (train.comparisons).",
      'data.dataset',
    )
  if (isRewardRun(train) && data.teacher)
    throw new UserError(
      'invalid_params',
      "A reward model learns scores, not a teacher's next-token predictions: leave the teacher out.",
      'teacher',
    )
  if (train.kind === 'dpo' && !data.init)
    throw new UserError(
      'invalid_params',
      'DPO keeps the model close to where it starts: choose the model to start from (a fine-tuned one, usually), or use SimPO, which needs none.',
      'init',
    )
  if (isPolicyRun(train)) train = pinRewardModels(store, train, data.tokenizerId)
  if (isPolicyRun(train) && !data.init)
    throw new UserError(
      'invalid_params',
      'GRPO reinforces what a model already gets right some of the time: choose the model to start from (one fine-tuned on the task, usually).',
      'init',
    )
  if (train.lora) loraCompatible(train, data, model)
  if (train.kind !== 'pretrain') {
    if (data.teacher)
      throw new UserError(
        'invalid_params',
        'A post-training run learns from its conversations or pairs; distillation is for pretraining runs.',
        'teacher',
      )
    const template = fineTuningTemplate(store, data.tokenizerId)
    const problem = templateError(template)
    if (problem)
      throw new UserError(
        'invalid_params',
        `The tokenizer's chat template does not parse: ${problem}`,
        'data.tokenizer',
      )
    data = { ...data, chatTemplate: template }
  }
  const id = `${slug(spec.name)}-${randomBytes(3).toString('hex')}`
  return store.runs.create(
    {
      id,
      name: spec.name,
      modelConfig: model,
      trainConfig: train,
      data,
      tokenSetId: null,
      parentRunId: spec.parentRunId ?? null,
      parentCheckpointId: spec.parentCheckpointId ?? null,
    },
    new Date().toISOString(),
  )
}
