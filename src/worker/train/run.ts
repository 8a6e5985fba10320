import * as tf from '@tensorflow/tfjs-core'
import { availableParallelism } from 'node:os'
import type { Store } from '../../store'
import type { RunRow } from '../../store/repos/runs'
import { UserError } from '../../shared/errors'
import type { BackendInfo } from '../../shared/types'
import { memoryEstimate } from '../../shared/estimate'
import { GpuError } from '../webgpu/device'
import { inferenceConfig, modelConfigSchema, type ModelConfig } from '../model/config'
import { growVocabulary } from '../model/grow-vocabulary'
import { measureMatmulFlops, trainingFlopsPerToken } from '../model/estimate'
import type { RngState } from '../../shared/rng'
import { CheckpointWriter, type CheckpointState, type WrittenCheckpoint } from './checkpoint/writer'
import { checkpointWeights } from './checkpoint/weights'
import {
  grpoSettings,
  isPolicyRun,
  isPreferenceRun,
  isRewardRun,
  sequenceLengthOf,
  tokensPerStep,
  trainsOnOneThread,
  trainConfigSchema,
  type TrainConfig,
} from './config'
import {
  computeReference,
  pairCount,
  pairsDigest,
  type PreferenceRows,
} from '../sft/preference-rows'
import { adaptedWeights, adapterCounts, frozenBase } from '../model/lora'
import { formatBytes } from '../../shared/format'
import { disposeParams, toParams } from '../infer/load'
import { windowCount, type TokenData } from './data'
import { SystemSampler, type SystemSample } from './system-sampler'
import { referenceDifficulty, tertileThresholds, unigramDifficulty } from './curriculum'
import { buildTeacherCache, CachedTeacher } from './teacher-cache'
import { Transformer, type Params } from '../model/model'
import { paramSpecs } from '../model/params'
import { DivergedError, Trainer, type StepMetrics, type TrainingState } from './trainer'
import { describePrecision } from './precision'
import type { JobResults } from '../../shared/jobs'

export interface RunContext {
  store: Store
  dbPath: string
  runId: string
  /** Aborted to stop the run (a final checkpoint is written first). */
  signal: AbortSignal
  /** Polled between steps: true to pause (checkpoint, then end as "paused"). */
  shouldPause: () => boolean
  backend: BackendInfo
  entries: { replica: string; checkpointWriter: string }
  nativeBinding?: string | undefined
  /** Live metrics after each step (throttling is the receiver's business). */
  onStep: (m: StepReport) => void
  log: (level: 'info' | 'warn' | 'error', message: string) => void
  /** Tokens for the run; by default its token set is read from the project. */
  data: TokenData
}

export interface StepReport extends StepMetrics {
  totalSteps: number
  tokensPerSec: number
  /** Validation loss when this step evaluated, else null. */
  valLoss: number | null
}

/** What a training job returns: declared with the job kind (shared/jobs.ts). */
export type RunSummary = JobResults['train.run']

const FULL_CHECKPOINT_EVERY = 4
const MAX_ROLLBACKS = 3
const METRIC_FLUSH_MS = 1000

/** The backends that run on this process's CPU thread, where data-parallel replicas help. */
const cpuBackend = (backend: BackendInfo['name']) => backend === 'wasm' || backend === 'cpu'
const gpuBackend = (backend: BackendInfo['name']) =>
  backend === 'webgpu' || backend === 'tensorflow-gpu'

/** Threads for data parallelism: one per core (up to 4) on single-threaded backends. */
export function resolveThreads(c: TrainConfig, backend: BackendInfo['name']): number {
  if (c.threads !== null) return c.threads
  if (trainsOnOneThread(c)) return 1
  return cpuBackend(backend) ? Math.min(4, availableParallelism()) : 1
}

/** Rebuild a Trainer's state from a stored checkpoint. */
export function checkpointState(store: Store, checkpointId: number): TrainingState {
  const meta = store.checkpoints.state(checkpointId) as CheckpointState | null
  if (!meta) throw new UserError('not_found', `There is no checkpoint ${checkpointId}.`)
  const tensors = new Map<string, Float32Array>()
  for (const [name, t] of store.checkpoints.tensors(checkpointId)) tensors.set(name, t.values)
  return { ...meta, tensors }
}

/**
 * Train a run to its last step (or until stopped or paused), resuming from its latest
 * checkpoint: the loop the `train.run` job and `frugal train` share.
 */
export async function trainRun(ctx: RunContext): Promise<RunSummary> {
  const { store, runId } = ctx
  const now = () => new Date().toISOString()
  const run = store.runs.require(runId)
  const model = modelConfigSchema.parse(run.modelConfig)
  let train = trainConfigSchema.parse(run.trainConfig)
  const backendLabel = `${ctx.backend.name} ${ctx.backend.version} (${ctx.backend.detail})`
  const latest = store.checkpoints.latest(runId)
  let resume = latest ? checkpointState(store, latest.id) : null
  if (resume)
    train = resume.train // a resumed run keeps the settings it started with
  else if (run.parentCheckpointId !== null) {
    // A fork's first start: the parent's weights, moments, step and RNG states, the fork's settings.
    const parent = checkpointState(store, run.parentCheckpointId)
    if (train.threads === null)
      train = { ...train, threads: parent.train.threads ?? resolveThreads(train, ctx.backend.name) }
    if (train.steps <= parent.step) {
      throw new UserError(
        'invalid_params',
        `train.steps: the fork starts at step ${parent.step}, so it needs more steps than that.`,
        'train.steps',
      )
    }
    resume = { ...parent, train }
    store.runs.update(runId, { trainConfig: train }, now())
    ctx.log(
      'info',
      `Forked from the checkpoint at step ${parent.step} of run ${run.parentRunId ?? '?'}.`,
    )
  } else if (train.threads === null) {
    train = { ...train, threads: resolveThreads(train, ctx.backend.name) }
    store.runs.update(runId, { trainConfig: train }, now())
  }
  if ((train.threads ?? 1) > 1 && gpuBackend(ctx.backend.name)) {
    // Replicas split a batch over CPU cores; a GPU takes the whole batch at once.
    ctx.log(
      'info',
      `Data-parallel threads are for CPU backends: on ${ctx.backend.name} the run trains on one (it asks for ${train.threads}).`,
    )
    train = { ...train, threads: 1 }
  }
  if (latest && resume) {
    ctx.log('info', `Resuming from the checkpoint at step ${resume.step}.`)
    store.runs.truncateMetricsAfter(runId, resume.step)
  } else if (run.step > 0) {
    store.runs.truncateMetricsAfter(runId, 0)
  }

  const writer = await CheckpointWriter.start(
    ctx.entries.checkpointWriter,
    ctx.dbPath,
    ctx.nativeBinding,
  )
  let trainer: Trainer | null = null
  let lastCheckpoint: WrittenCheckpoint | null = null
  const pendingMetrics: { name: string; step: number; value: number }[] = []
  const pendingVectors: { name: string; step: number; value: Float32Array }[] = []
  let lastFlush = performance.now()
  const flush = () => {
    if (pendingMetrics.length || pendingVectors.length)
      store.runs.addMetrics(runId, pendingMetrics.splice(0), pendingVectors.splice(0))
    lastFlush = performance.now()
  }
  let qatLogged = false
  let bestVal = run.bestValLoss
  let lastVal: number | null = null
  let lastTrain: number | null = run.trainLoss
  let wallMs = resume ? run.wallMs : 0
  let tokensSeen = resume
    ? (resume.tokensSeen ?? resume.step * tokensPerStep(train, model.contextLength))
    : 0
  let rollbacks = 0
  const flopsPerToken = trainingFlopsPerToken(model)
  const system = new SystemSampler()

  const checkpoint = async (reason: string, wait: boolean) => {
    // Metrics up to the checkpoint's step go first: a resume keeps them and rewrites the rest.
    flush()
    const state = await trainer!.state()
    const written = writer
      .write(runId, state, {
        reason,
        trainLoss: lastTrain,
        valLoss: lastVal,
        fullEvery: FULL_CHECKPOINT_EVERY,
        keep: train.keepCheckpoints,
      })
      .then((w) => {
        lastCheckpoint = w
        ctx.log(
          'info',
          `Checkpoint at step ${state.step} (${w.kind}, ${(w.rawBytes / 1e6).toFixed(1)} MB → ${(w.storedBytes / 1e6).toFixed(1)} MB, ${w.ms.toFixed(0)} ms${w.pruned ? `, ${w.pruned} old pruned` : ''}).`,
        )
        return w
      })
    if (wait) await written
    else written.catch((err: unknown) => ctx.log('error', String(err)))
  }

  const evaluate = async (step: number) => {
    const v = await trainer!.evaluate()
    lastVal = v
    if (Number.isFinite(v) && (bestVal === null || v < bestVal)) bestVal = v
    pendingMetrics.push({ name: 'val_loss', step, value: v })
    const extra = trainer!.lastEval
    for (const [name, value] of Object.entries(extra))
      pendingMetrics.push({ name: `val_${name}`, step, value })
    const held = trainer!.lastPolicyEval
    if (held) {
      const e = held.example
      // "45% right (pass@1, mean reward 0.452)", or without an answer check "mean reward 0.452".
      const right = (share: number | null, reward: number, pass: string) =>
        share !== null
          ? `${pct(share)} right (${pass}mean reward ${reward.toFixed(3)})`
          : `mean reward ${reward.toFixed(3)}`
      ctx.log(
        'info',
        `${step === 0 ? 'Before training' : `Step ${step}`}: ${held.prompts} held-out prompts, ${held.samples} replies each sampled: ${right(held.accuracy, held.reward, 'pass@1, ')}; greedy: ${right(held.greedyAccuracy, held.greedyReward, '')}; e.g. "${clipText(e.question)}" → "${clipText(e.reply)}"${
          e.correct === null ? '' : e.correct ? ' (right)' : ' (wrong)'
        }.`,
      )
    } else if (extra.preferred !== undefined && isRewardRun(train))
      ctx.log(
        'info',
        `${step === 0 ? 'Before training' : `Step ${step}`}: the reward model scores the chosen reply higher in ${pct(extra.accuracy)} of the held-out pairs (mean scores ${extra.chosen_reward.toFixed(3)} chosen, ${extra.rejected_reward.toFixed(3)} rejected).`,
      )
    else if (extra.preferred !== undefined)
      ctx.log(
        'info',
        step === 0
          ? `Before training, the model finds the chosen reply likelier (per token) in ${pct(extra.preferred)} of the held-out pairs.`
          : `Step ${step}: held-out pairs ordered right by the reward ${pct(extra.accuracy)}, the chosen reply likelier (per token) in ${pct(extra.preferred)}.`,
      )
    return v
  }

  try {
    trainer = await createTrainer(ctx, model, train, resume)
    // Peak for model FLOPs utilization: this thread's matmul rate times the threads in use.
    const peakFlops =
      (await measureMatmulFlops(tf)) * (cpuBackend(ctx.backend.name) ? (train.threads ?? 1) : 1)
    store.runs.update(
      runId,
      { status: 'running', ownerPid: process.pid, backend: backendLabel, error: null },
      now(),
    )
    const parallel =
      train.threads === 1
        ? 'one data-parallel worker'
        : `data-parallel over ${train.threads} threads`
    ctx.log(
      'info',
      `Training on ${backendLabel}, ${parallel}, ${describePrecision(train.precision)}.`,
    )
    if (train.lora) ctx.log('info', describeAdapters(model, train.lora))
    // Preference training and GRPO: where the model starts, on the measures it is judged by.
    if (!resume && (isPreferenceRun(train) || isPolicyRun(train))) await evaluate(0)
    let failuresLogged = 0
    let status: RunSummary['status'] = 'completed'
    while (trainer.step < train.steps) {
      if (ctx.signal.aborted) {
        status = 'stopped'
        break
      }
      if (ctx.shouldPause()) {
        status = 'paused'
        break
      }
      let m: StepMetrics
      try {
        m = await trainer.trainStep()
      } catch (err) {
        if (!(err instanceof DivergedError)) throw err
        trainer = await rollBack(ctx, trainer, model, ++rollbacks, err)
        continue
      }
      wallMs += m.wallMs
      tokensSeen += m.tokens
      lastTrain = m.loss
      const tokensPerSec = m.tokens / (m.wallMs / 1000)
      const step = m.step + 1 // steps completed
      if (m.qat && !qatLogged) {
        qatLogged = true
        ctx.log('info', `Quantization-aware training (int8) from step ${step} on.`)
      }
      if (m.qat) pendingMetrics.push({ name: 'qat', step, value: 1 })
      if (m.kl !== null) pendingMetrics.push({ name: 'distill_kl', step, value: m.kl })
      if (m.hidden !== null) pendingMetrics.push({ name: 'distill_hidden', step, value: m.hidden })
      if (m.distillStage !== null)
        pendingMetrics.push({ name: 'distill_stage', step, value: m.distillStage })
      if (m.preference) {
        const p = m.preference
        pendingMetrics.push(
          { name: 'pref_chosen_reward', step, value: p.chosenReward },
          { name: 'pref_rejected_reward', step, value: p.rejectedReward },
          { name: 'pref_margin', step, value: p.chosenReward - p.rejectedReward },
          { name: 'pref_accuracy', step, value: p.accuracy },
        )
      }
      if (m.policy) {
        const p = m.policy
        pendingMetrics.push(
          { name: 'grpo_reward', step, value: p.reward },
          { name: 'grpo_reward_spread', step, value: p.spread },
          { name: 'grpo_flat_groups', step, value: p.flat },
          { name: 'grpo_length', step, value: p.length },
          { name: 'grpo_kl', step, value: p.kl },
          { name: 'grpo_clipped', step, value: p.clipped },
          ...(p.accuracy !== null ? [{ name: 'grpo_accuracy', step, value: p.accuracy }] : []),
        )
        failuresLogged = logRuleFailures(ctx, trainer, failuresLogged)
      }
      recordSchedules(pendingMetrics, m, step, train)
      const isLast = step === train.steps
      const valLoss =
        (train.evalEvery > 0 && step % train.evalEvery === 0) || isLast
          ? await evaluate(step)
          : null
      recordStep(
        pendingMetrics,
        pendingVectors,
        m,
        step,
        tokensPerSec,
        flopsPerToken,
        peakFlops,
        system.sample(),
      )
      ctx.onStep({ ...m, step, totalSteps: train.steps, tokensPerSec, valLoss })
      if (performance.now() - lastFlush > METRIC_FLUSH_MS || isLast) {
        flush()
        store.runs.update(
          runId,
          { step, tokensSeen, wallMs: Math.round(wallMs), trainLoss: m.loss, bestValLoss: bestVal },
          now(),
        )
      }
      if (train.checkpointEvery > 0 && step % train.checkpointEvery === 0 && !isLast)
        await checkpoint('interval', false)
    }
    if (status !== 'completed' || trainer.step >= train.steps) {
      if (status === 'completed' && lastVal === null) await evaluate(trainer.step)
      await checkpoint(
        status === 'completed' ? 'final' : status === 'paused' ? 'pause' : 'stop',
        true,
      )
    }
    flush()
    store.runs.update(
      runId,
      {
        status,
        ownerPid: null,
        step: trainer.step,
        tokensSeen,
        wallMs: Math.round(wallMs),
        trainLoss: lastTrain,
        bestValLoss: bestVal,
      },
      now(),
    )
    const cp = lastCheckpoint as WrittenCheckpoint | null
    return {
      runId,
      status,
      step: trainer.step,
      trainLoss: lastTrain,
      valLoss: lastVal,
      bestValLoss: bestVal,
      tokensPerSec: wallMs > 0 ? tokensSeen / (wallMs / 1000) : 0,
      wallMs: Math.round(wallMs),
      backend: backendLabel,
      checkpoint: cp
        ? { id: cp.checkpointId, kind: cp.kind, rawBytes: cp.rawBytes, storedBytes: cp.storedBytes }
        : null,
    }
  } catch (err) {
    flush()
    const message = explainFailure(err, model, train)
    // Stopped before the first step (while scoring or caching): stopped, not failed.
    const stoppedEarly = ctx.signal.aborted && trainer === null
    store.runs.update(
      runId,
      {
        status: stoppedEarly ? 'stopped' : 'failed',
        ownerPid: null,
        error: stoppedEarly ? null : message,
      },
      now(),
    )
    if (err instanceof UserError) throw err
    throw new UserError('internal', message)
  } finally {
    await writer.close().catch(() => undefined)
    await trainer?.dispose()
  }
}

/** Rules that failed in a GRPO run, logged with a failed reply once per rule (and counted). */
function logRuleFailures(ctx: RunContext, trainer: Trainer, logged: number): number {
  const failures = trainer.ruleFailures
  if (!failures) return logged
  const named = new Set(failures.list.slice(0, logged).map((f) => f.rule))
  for (const f of failures.list.slice(logged)) {
    if (named.has(f.rule)) continue
    named.add(f.rule)
    ctx.log(
      'warn',
      `The reward rule "${f.rule}" failed on the reply "${clipText(f.reply)}" to "${clipText(f.question)}": ${f.problem}. It counts 0 for such replies (${failures.counts.get(f.rule) ?? 1} so far).`,
    )
  }
  return failures.list.length
}

const clipText = (text: string) => {
  const one = text.replace(/\s+/g, ' ').trim()
  return one.length > 60 ? `${one.slice(0, 60)}…` : one
}

interface CheckpointModel {
  config: ModelConfig
  weights: Map<string, Float32Array>
}

/** A distilling run's teacher: its checkpoint's weights and its model config. */
function teacherModel(store: Store, run: RunRow): CheckpointModel | null {
  const ref = run.data.teacher
  return ref ? checkpointModel(store, ref, 'teacher') : null
}

/** Another run's checkpoint as a model: its config and weights. */
function checkpointModel(
  store: Store,
  ref: { runId: string; checkpointId: number },
  role: string,
): CheckpointModel {
  const source = store.runs.get(ref.runId)
  if (!source)
    throw new UserError('not_found', `The ${role} checkpoint ${ref.checkpointId} is gone.`)
  const weights = checkpointWeights(store, ref.checkpointId, `${role} checkpoint`)
  return { config: modelConfigSchema.parse(source.modelConfig), weights }
}

/** GRPO's reward models: each `reward-model` rule's checkpoint (pinned when the run was created). */
function rewardModels(store: Store, train: TrainConfig): Map<number, CheckpointModel> {
  const out = new Map<number, CheckpointModel>()
  grpoSettings(train).rewards.forEach((rule, index) => {
    if (rule.kind !== 'reward-model') return
    if (rule.checkpoint === null)
      throw new UserError('invalid_params', `The reward model ${rule.run} has no checkpoint.`)
    out.set(
      index,
      checkpointModel(store, { runId: rule.run, checkpointId: rule.checkpoint }, 'reward model'),
    )
  })
  return out
}

/**
 * A run started from another checkpoint: that checkpoint's weights, with embedding rows for
 * the tokens the run's tokenizer adds to the checkpoint's (chat tokens), if any.
 */
function initWeights(store: Store, run: RunRow): Map<string, Float32Array> | null {
  const init = run.data.init
  if (!init) return null
  return growVocabulary(
    modelConfigSchema.parse(run.modelConfig),
    checkpointWeights(store, init.checkpointId, 'checkpoint this run starts from'),
  )
}

/**
 * DPO's reference: every pair's reply log-probabilities under the model the run starts from
 * (whether it starts or resumes now), read from the project when they were computed before
 * for the same pairs and checkpoint, else computed once and kept there.
 */
async function referenceLogprobs(
  ctx: RunContext,
  run: RunRow,
  model: ModelConfig,
  train: TrainConfig,
  pairs: NonNullable<TokenData['preference']>,
): Promise<void> {
  const init = run.data.init
  if (!init) throw new UserError('invalid_params', 'DPO needs the model the run starts from.')
  // LoRA over an int8 base starts from the rounded weights: that is its reference, kept apart.
  const lora = train.lora
  const digest = (rows: PreferenceRows) =>
    lora?.int8Base ? `${pairsDigest(rows)}:int8-base` : pairsDigest(rows)
  const sets = [...new Set([pairs.train, pairs.val])]
  const missing = sets.filter((rows) => {
    const kept = ctx.store.referenceLogprobs.get(init.checkpointId, digest(rows), pairCount(rows))
    if (kept) [rows.refChosen, rows.refRejected] = [kept.chosen, kept.rejected]
    return !kept
  })
  if (missing.length === 0) {
    ctx.log('info', 'Reference log-probabilities of the pairs read from the project.')
    return
  }
  const started = performance.now()
  const net = new Transformer(model)
  const start = initWeights(ctx.store, run)!
  const params = toParams(model, lora ? frozenBase(model, lora, start) : start)
  try {
    for (const rows of missing) {
      await computeReference(net, params, rows, train.batchSize)
      ctx.store.referenceLogprobs.put(
        init.checkpointId,
        digest(rows),
        { chosen: rows.refChosen!, rejected: rows.refRejected! },
        new Date().toISOString(),
      )
    }
  } finally {
    disposeParams(params)
    net.dispose()
  }
  ctx.log(
    'info',
    `Reference log-probabilities of the pairs under the starting model in ${((performance.now() - started) / 1000).toFixed(1)} s (kept in the project).`,
  )
}

async function createTrainer(
  ctx: RunContext,
  model: ModelConfig,
  train: TrainConfig,
  resume: TrainingState | null,
): Promise<Trainer> {
  const run = ctx.store.runs.require(ctx.runId)
  // A LoRA run's checkpoints hold only its adapters: its base is read again on resume, as
  // is a GRPO run's starting model, its reference.
  const initialWeights =
    !resume || train.lora || (isPolicyRun(train) && grpoSettings(train).klBeta > 0)
      ? initWeights(ctx.store, run)
      : null
  const difficulty = await curriculumDifficulty(ctx, model, train)
  // A cached teacher is read from the project; only a live one needs its weights loaded.
  const cached =
    run.data.teacher && train.distillCache ? await cachedTeacher(ctx, model, train) : null
  const teacher = cached ? null : teacherModel(ctx.store, run)
  const pairs = ctx.data.preference
  if (train.kind === 'dpo' && pairs && pairs.train.refChosen === null)
    await referenceLogprobs(ctx, run, model, train, pairs)
  return Trainer.create(model, train, ctx.data, {
    ...(resume ? { resume } : {}),
    ...(isPolicyRun(train) ? { rewardModels: rewardModels(ctx.store, train) } : {}),
    ...(difficulty ? { curriculum: { difficulty } } : {}),
    ...(initialWeights ? { initialWeights } : {}),
    ...(cached ? { teacherCache: cached } : teacher ? { teacher } : {}),
    replicaEntry: ctx.entries.replica,
    backend:
      ctx.backend.name === 'tensorflow-gpu' || ctx.backend.name === 'tensorflow'
        ? 'tensorflow'
        : ctx.backend.name,
  })
}

/**
 * The run's teacher predictions from the project's cache, built first when there is none
 * for this teacher checkpoint, data, context, temperature and top-k (runs share it).
 */
async function cachedTeacher(
  ctx: RunContext,
  model: ModelConfig,
  train: TrainConfig,
): Promise<CachedTeacher> {
  const run = ctx.store.runs.require(ctx.runId)
  const ref = run.data.teacher!
  if (run.tokenSetId === null)
    throw new UserError('invalid_params', 'train.distillCache needs the run’s encoded dataset.')
  const key = {
    checkpointId: ref.checkpointId,
    tokenSetId: run.tokenSetId,
    windowTokens: sequenceLengthOf(train, model.contextLength),
    temperature: train.distillTemperature,
    topK: train.distillCacheTopK,
  }
  const found = ctx.store.teacherCaches.find(key)
  let id = found?.state === 'ready' ? found.id : null
  if (id === null) {
    const started = performance.now()
    let logged = 0
    id = await buildTeacherCache(
      ctx.store,
      key,
      checkpointModel(ctx.store, ref, 'teacher'),
      model,
      ctx.data.train,
      {
        signal: ctx.signal,
        onProgress: (done, total) => {
          if (done < total && performance.now() - logged < 5000) return
          logged = performance.now()
          ctx.log('info', `Caching the teacher's predictions: ${done} of ${total} windows.`)
        },
      },
    )
    ctx.log(
      'info',
      `Cached the teacher's top-${key.topK} predictions in ${((performance.now() - started) / 1000).toFixed(1)} s; runs with this teacher and data reuse them.`,
    )
  } else ctx.log('info', `Using the cached predictions of the teacher (cache ${id}).`)
  return new CachedTeacher(ctx.store, id, key.topK, model.vocabSize)
}

/**
 * Difficulties are read once per start of a run (a rollback reuses them); reference
 * scores are computed once per reference, data and context, and kept in the project.
 */
const scoredDifficulty = new WeakMap<RunContext, Promise<Float32Array | null>>()

/**
 * The curriculum's difficulty of each context-long training window (nats per token):
 * the loss under the run's reference checkpoint, or the unigram surprisal.
 */
function curriculumDifficulty(
  ctx: RunContext,
  model: ModelConfig,
  train: TrainConfig,
): Promise<Float32Array | null> {
  let scored = scoredDifficulty.get(ctx)
  if (!scored) {
    scored = scoreDifficulty(ctx, model, train)
    scoredDifficulty.set(ctx, scored)
  }
  return scored
}

async function scoreDifficulty(
  ctx: RunContext,
  model: ModelConfig,
  train: TrainConfig,
): Promise<Float32Array | null> {
  if (train.curriculum === 'off') return null
  const S = sequenceLengthOf(train, model.contextLength)
  const started = performance.now()
  let difficulty: Float32Array
  let source: string
  if (train.curriculum === 'unigram') {
    difficulty = unigramDifficulty(ctx.data.train, S, ctx.data.vocabSize)
    source = 'unigram surprisal'
  } else {
    // Without a reference of its own, a distilling run is scored by its teacher:
    // teacher-confidence sampling (windows the teacher predicts well come first).
    const data = ctx.store.runs.require(ctx.runId).data
    const ref = data.reference ?? data.teacher
    if (!ref)
      throw new UserError(
        'invalid_params',
        'train.curriculum: "reference" scores the data with a reference checkpoint, and this run has none. Pick one (run.json "reference", or Curriculum reference in the run form), or use "unigram".',
        'train.curriculum',
      )
    const tokenSetId = ctx.store.runs.require(ctx.runId).tokenSetId
    const key =
      tokenSetId === null ? null : { checkpointId: ref.checkpointId, tokenSetId, windowTokens: S }
    const kept = key && ctx.store.curriculumScores.get(key, windowCount(ctx.data.train.length, S))
    const name = `the loss of ${data.reference ? '' : 'the teacher '}${ctx.store.runs.get(ref.runId)?.name ?? ref.runId}`
    if (kept) {
      difficulty = kept
      source = `${name} (kept in the project from an earlier scoring)`
    } else {
      difficulty = await scoreWithReference(ctx, ref, S)
      if (key) ctx.store.curriculumScores.put(key, difficulty, new Date().toISOString())
      source = name
    }
  }
  const t = train.curriculumThresholds ?? tertileThresholds(difficulty)
  ctx.log(
    'info',
    `Curriculum: ${difficulty.length} windows of ${S} tokens scored by ${source} in ${((performance.now() - started) / 1000).toFixed(1)} s; the mix turns balanced below a loss of ${t.high.toFixed(3)} and hard-heavy below ${t.low.toFixed(3)}.`,
  )
  return difficulty
}

/** Each training window's loss under a reference checkpoint (forward passes only). */
async function scoreWithReference(
  ctx: RunContext,
  ref: { runId: string; checkpointId: number },
  S: number,
): Promise<Float32Array> {
  const reference = checkpointModel(ctx.store, ref, 'curriculum reference')
  if (reference.config.contextLength < S)
    throw new UserError(
      'invalid_params',
      `The curriculum reference's context (${reference.config.contextLength}) is shorter than this model's (${S}).`,
      'reference',
    )
  // Inference semantics, as in evaluation: no MoE capacity limit.
  const config = inferenceConfig(reference.config)
  const net = new Transformer(config)
  const params: Params = {}
  for (const spec of paramSpecs(config))
    params[spec.name] = tf.tensor(reference.weights.get(spec.name)!, spec.shape)
  try {
    return await referenceDifficulty(net, params, ctx.data.train, S)
  } finally {
    for (const t of Object.values(params)) t.dispose()
    net.dispose()
  }
}

/**
 * The loss stayed non-finite: go back to the last checkpoint. Replaying the same batches
 * would diverge again, so the sampler skips ahead to different ones.
 */
async function rollBack(
  ctx: RunContext,
  current: Trainer,
  model: ModelConfig,
  count: number,
  err: DivergedError,
): Promise<Trainer> {
  const cp = ctx.store.checkpoints.latest(ctx.runId)
  if (!cp || count > MAX_ROLLBACKS) {
    throw new UserError(
      'internal',
      `${err.message} ${cp ? `Rolled back ${MAX_ROLLBACKS} times without recovering.` : 'There is no checkpoint to roll back to.'} Lower the learning rate, keep gradient clipping on, or use fp32.`,
    )
  }
  const state = checkpointState(ctx.store, cp.id)
  const skipped: RngState = [
    state.samplerRng[0] ^ (0x9e3779b9 * count),
    state.samplerRng[1],
    state.samplerRng[2] ^ count,
    state.samplerRng[3],
  ]
  ctx.log(
    'warn',
    `${err.message} Rolled back to the checkpoint at step ${cp.step} and skipped to different batches (rollback ${count} of ${MAX_ROLLBACKS}).`,
  )
  await current.dispose()
  return createTrainer(ctx, model, state.train, {
    ...state,
    samplerRng: skipped.map((x) => x >>> 0) as RngState,
  })
}

function recordStep(
  points: { name: string; step: number; value: number }[],
  vectors: { name: string; step: number; value: Float32Array }[],
  m: StepMetrics,
  step: number,
  tokensPerSec: number,
  flopsPerToken: number,
  peakFlops: number,
  sys: SystemSample,
): void {
  const add = (name: string, value: number) => points.push({ name, step, value })
  add('loss', m.loss)
  if (m.aux) add('aux_loss', m.aux)
  add('lr', m.lr)
  add('grad_norm', m.gradNorm)
  add('tokens_per_sec', tokensPerSec)
  add('model_gflops', (tokensPerSec * flopsPerToken) / 1e9)
  if (peakFlops > 0) add('mfu', (tokensPerSec * flopsPerToken) / peakFlops)
  add('loss_scale', m.lossScale)
  add('skipped_steps', m.skippedTotal)
  if (m.skipped) add('skipped', 1)
  const mem = tf.memory() as tf.MemoryInfo & {
    numBytesInGPU?: number
    numBytesAllocatedInGPU?: number
  }
  add('memory_bytes', mem.numBytes)
  add('rss_bytes', process.memoryUsage().rss)
  // On webgpu: bytes of live tensors on the device, and what its buffer pool holds (it
  // keeps freed buffers for reuse, so this is the run's high-water mark, as PyTorch's
  // "reserved" memory is).
  if (mem.numBytesInGPU !== undefined) add('gpu_tensor_bytes', mem.numBytesInGPU)
  if (mem.numBytesAllocatedInGPU !== undefined)
    add('gpu_reserved_bytes', mem.numBytesAllocatedInGPU)
  add('cpu_percent', sys.cpuPercent)
  if (sys.gpuUtil !== undefined) add('gpu_util', sys.gpuUtil)
  if (sys.gpuMemoryMb !== undefined) add('gpu_memory_mb', sys.gpuMemoryMb)
  if (sys.energyJ !== undefined) add('energy_j', sys.energyJ)
  for (const l of m.moe) {
    add(`moe.imbalance.L${l.layer}`, l.imbalance)
    add(`moe.entropy.L${l.layer}`, l.entropy)
    add(`moe.dropped.L${l.layer}`, l.dropped)
    add(`moe.experts_per_token.L${l.layer}`, l.meanExperts)
    vectors.push({ name: `moe.load.L${l.layer}`, step, value: Float32Array.from(l.load) })
  }
}

/** What the curriculum, progressive schedules and adaptive batch chose this step. */
function recordSchedules(
  points: { name: string; step: number; value: number }[],
  m: StepMetrics,
  step: number,
  train: TrainConfig,
): void {
  if (m.mix)
    for (const [bucket, share] of Object.entries(m.mix))
      points.push({ name: `curriculum.${bucket}`, step, value: share })
  const varies =
    train.contextWarmupSteps > 0 ||
    train.batchWarmupSteps > 0 ||
    train.tokenBudget !== null ||
    train.adaptiveBatch
  if (varies) {
    points.push({ name: 'context_length', step, value: m.contextLength })
    points.push({ name: 'batch_sequences', step, value: m.sequences })
    points.push({ name: 'batch_tokens', step, value: m.tokens })
  }
  if (m.noiseScale !== null) points.push({ name: 'noise_scale', step, value: m.noiseScale })
}

/** Turn an engine failure into advice. */
export function explainFailure(err: unknown, model: ModelConfig, train: TrainConfig): string {
  const text = err instanceof Error ? err.message : String(err)
  const fixes = `Try a smaller batch size (now ${train.batchSize}) with gradient accumulation, a shorter context (now ${model.contextLength}), or gradient checkpointing${train.gradientCheckpointing ? ' (already on)' : ''}`
  if (err instanceof GpuError && err.kind === 'out-of-memory') {
    // WebGPU does not tell how much memory the adapter has; say what the run needs.
    const need = memoryEstimate(model, train, 1)
    const inUse = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number }
    return `${text.split('\n')[0]} The run needs about ${gb(need.total)} GB (weights, AdamW moments and one step's activations; ${gb(need.stepPeak.checkpointed + need.weights + need.optimizer)} GB with gradient checkpointing), and ${gb(inUse.numBytesInGPU ?? 0)} GB was in use. ${fixes}. The last checkpoint is kept: resume from it with smaller settings.`
  }
  if (
    /out of memory|OOM|Cannot enlarge memory|Maximum memory size|memory access out of bounds|Array buffer allocation failed/i.test(
      text,
    )
  ) {
    return `The backend ran out of memory (${text.split('\n')[0]}). ${fixes}, or use fewer threads.`
  }
  // The wasm backend's C++ aborts when its allocator fails (its heap stops at 4 GB), with
  // nothing but "Aborted()" (measured: full fine-tuning of a 135M model, bench/lora.ts).
  if (/^Aborted\(/.test(text))
    return `The wasm backend stopped (${text.split('\n')[0].split('.')[0]}), which on this backend means its memory ran out: it has at most 4 GB. ${fixes}${train.lora ? (train.lora.int8Base ? '' : ', or hold the frozen weights in int8 (train.lora.int8Base)') : ', or train low-rank adapters (LoRA) instead of every weight'}.`
  return text
}

/** "LoRA rank 8 on 24 weights (1.2M parameters trained); their 12.6M frozen values held in int8 (12.0 MB instead of 48.1 MB)." */
function describeAdapters(model: ModelConfig, lora: NonNullable<TrainConfig['lora']>): string {
  const { adapters, adapted } = adapterCounts(model, lora)
  const weights = adaptedWeights(model, lora.targets).length
  const held = lora.int8Base
    ? `; their ${millions(adapted)} frozen values held in int8 (${formatBytes(adapted)} instead of ${formatBytes(4 * adapted)})`
    : ''
  return `LoRA rank ${lora.rank} on ${weights} weights (${millions(adapters)} parameters trained)${held}.`
}

const millions = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(1)}k`)

const pct = (share: number | undefined) => `${Math.round((share ?? 0) * 100)}%`

const gb = (bytes: number) => (bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)

export type { RunRow }
