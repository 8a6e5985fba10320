import * as tf from '@tensorflow/tfjs-core'
import { isMoeLayer, weightSetOf, type ModelConfig } from '../model/config'
import { rebalancedBias, type MoeStats } from '../model/layers/moe'
import { crossEntropy } from '../model/loss'
import { Transformer, type Params } from '../model/model'
import { ownedVariable } from '../model/ops'
import { initialValues, names, scoreSpec } from '../model/params'
import {
  adaptedWeights,
  adapterScale,
  adapterSpecs,
  initialAdapters,
  isAdapterName,
} from '../model/lora'
import { quantizeWeight, type Int8Weight } from '../model/layers/int8-weight'
import { Rng, type RngState } from '../../shared/rng'
import {
  grpoSettings,
  isPreferenceRun,
  isRewardRun,
  sequenceLengthOf,
  tokensPerStep,
  type TrainConfig,
  usesLossScaling,
} from './config'
import { BatchSampler, type Batch, type TokenData } from './data'
import { packedBatch, PackedSampler } from '../sft/pack'
import {
  pairCount,
  preferenceBatch,
  PreferenceSampler,
  type PreferenceRows,
} from '../sft/preference-rows'
import { preferenceLoss, type PreferenceObjective } from '../model/preference-loss'
import {
  computeGradients,
  type GradientResult,
  type PolicyMetrics,
  type PreferenceMetrics,
} from './gradients'
import { PolicyRollouts, type PolicyEvaluation, type RolloutStats } from '../grpo/policy'
import type { RuleFailure } from '../grpo/rewards'
import { RewardScorer, type RewardModelWeights } from '../grpo/reward-model'
import type { PolicyObjective } from '../model/policy-loss'
import { paramSpecs } from '../model/params'
import { hostView, readOwned, readSum, readTogether } from '../kernels/host-views'
import { throwIfBackendFailed } from '../backend-failure'
import { trimGpuPool } from '../webgpu/device'
import { AdamW } from './optimizer'
import { shardSizes } from './parallel/layout'
import { ReplicaPool } from './parallel/pool'
import { LossScaler, numericsFor, type LossScaleState } from './precision'
import { qatNumerics } from './qat'
import { Teacher, type TeacherTargets } from './teacher'
import type { CachedTeacher } from './teacher-cache'
import { batchSizeAt, contextLengthAt, dropPathRate, learningRate } from './schedule'
import {
  CurriculumSampler,
  LOSS_EMA,
  mixFor,
  tertileThresholds,
  type Mix,
  type Thresholds,
} from './curriculum'
import { NoiseScale, type NoiseScaleState } from './noise-scale'
import { distillWeights, type DistillWeights } from './distill'
import {
  alignHidden,
  initialProjections,
  trainingSpecs,
  type HiddenAlignment,
} from './hidden-align'

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainingState {
  step: number
  model: ModelConfig
  train: TrainConfig
  /** Parameters and AdamW moments: "param/<name>", "adam.m/<name>", "adam.v/<name>". */
  tensors: Map<string, Float32Array>
  adamSteps: number
  samplerRng: RngState
  dropPathRng: RngState
  lossScale: LossScaleState
  /** Tokens trained on so far (absent in checkpoints from before variable batches). */
  tokensSeen?: number
  /** The curriculum's smoothed training loss, which picks its mix. */
  curriculumLoss?: number | null
  /** The adaptive batch's noise-scale estimates and current accumulation. */
  noiseScale?: NoiseScaleState | null
}

export interface MoeLayerMetrics {
  layer: number
  /** Share of assignments per expert (sums to 1). */
  load: number[]
  /** max/mean of the load: 1 is perfectly balanced. */
  imbalance: number
  entropy: number
  dropped: number
  meanExperts: number
}

export interface StepMetrics {
  step: number
  loss: number
  aux: number
  lr: number
  gradNorm: number
  lossScale: number
  /** This step's update was skipped (non-finite gradients). */
  skipped: boolean
  /** The forward pass used int8 fake quantization (QAT). */
  qat: boolean
  /** The distillation term T²·KL(teacher ‖ student), when the run has a teacher. */
  kl: number | null
  /** The hidden-state alignment MSE, when the run aligns hidden states. */
  hidden: number | null
  /** The staged distillation schedule's stage (1 hidden, 2 logits, 3 all); null unstaged. */
  distillStage: 1 | 2 | 3 | null
  /** Preference training: the step's mean rewards and the share of pairs it orders right. */
  preference: PreferenceMetrics | null
  /** GRPO: the sampled replies' rewards, spread and length, the KL and the clipped share. */
  policy: PolicyStepMetrics | null
  skippedTotal: number
  tokens: number
  /** Sequence length and sequences this step trained on (they vary with the schedules). */
  contextLength: number
  sequences: number
  /** Micro-batches summed into this step. */
  microBatches: number
  /** The curriculum's bucket mix this step, when curriculum learning is on. */
  mix: Mix | null
  /** Smoothed gradient noise scale B_simple in sequences, with the adaptive batch. */
  noiseScale: number | null
  wallMs: number
  moe: MoeLayerMetrics[]
}

/** A GRPO step's measures, averaged over its micro-batches. */
export type PolicyStepMetrics = RolloutStats &
  PolicyMetrics & {
    /** Micro-batches whose replies were sampled this step (the rest reused a batch: iterations). */
    fresh: number
  }

export interface TrainerOptions {
  resume?: TrainingState
  /**
   * Start from these weights (parameter name → values) instead of a random init: a new
   * run initialized from another checkpoint. Optimizer and step start fresh.
   */
  initialWeights?: ReadonlyMap<string, Float32Array>
  /**
   * Knowledge distillation from this model (same vocabulary): each batch's soft targets
   * come from its forward pass, and the loss mixes them with the labels (config.distill*).
   */
  teacher?: { config: ModelConfig; weights: ReadonlyMap<string, Float32Array> }
  /** Distil from cached teacher predictions (instead of `teacher`); batches align to windows. */
  teacherCache?: CachedTeacher
  /** Curriculum learning: the difficulty (nats per token) of each context-long window. */
  curriculum?: { difficulty: Float32Array }
  /** GRPO's `reward-model` rules: each one's reward model, by the rule's index. */
  rewardModels?: ReadonlyMap<number, RewardModelWeights>
  /** Where the data-parallel replica's entry is (required when threads > 1). */
  replicaEntry?: string
  /** The backend name replicas must load (the one this thread uses). */
  backend?: string
}

/** The run cannot continue from its current weights: roll back to a checkpoint. */
export class DivergedError extends Error {
  constructor(readonly badSteps: number) {
    super(`The loss was not finite for ${badSteps} steps in a row.`)
    this.name = 'DivergedError'
  }
}

/**
 * One model being trained: its parameters, optimizer, samplers and the step they are at.
 * `trainStep` is synchronous and deterministic given the state.
 */
export class Trainer {
  readonly model: Transformer
  readonly params = new Map<string, tf.Variable>()
  /** LoRA with `int8Base`: the frozen weights that have adapters, in int8 on the host; else null. */
  readonly int8Bases: Map<string, Int8Weight> | null
  readonly optimizer: AdamW
  step: number
  private readonly trainable: string[]
  private readonly sampler: BatchSampler | PackedSampler | PreferenceSampler
  /** Preference training: how pairs are scored; null otherwise. */
  private readonly objective: PreferenceObjective | null
  /** GRPO: the sampling and rewarding of replies, and the clipped objective; null otherwise. */
  private readonly policy: PolicyRollouts | null = null
  private readonly policyObjective: PolicyObjective | null = null
  /** GRPO: the held-out prompts' replies (sampled and greedy) at the last evaluation. */
  lastPolicyEval: PolicyEvaluation | null = null
  /** What the last evaluation measured besides its loss (preference accuracy, rewards). */
  lastEval: Record<string, number> = {}
  private curriculum: {
    sampler: CurriculumSampler
    thresholds: Thresholds
    loss: number | null
  } | null = null
  private readonly noise: NoiseScale | null
  /** Tokens trained on so far. */
  tokensSeen: number
  private readonly dropRng: Rng
  private readonly scaler: LossScaler
  private readonly numerics
  private readonly qatNumerics
  private badSteps = 0
  private pool: ReplicaPool | null = null
  private teacher: Teacher | null = null
  private cache: CachedTeacher | null = null
  /** Live tensors in each replica after the last step (diagnostics and tests). */
  replicaTensors: number[] = []

  /** A trainer, with its replica threads started when the config asks for more than one. */
  static async create(
    modelConfig: ModelConfig,
    config: TrainConfig,
    data: TokenData,
    options: TrainerOptions = {},
  ): Promise<Trainer> {
    const alignment =
      options.teacher && config.distillHiddenWeight > 0
        ? alignHidden(modelConfig, options.teacher.config, config.distillHiddenLayers)
        : null
    const trainer = new Trainer(
      modelConfig,
      config,
      data,
      alignment,
      options.resume,
      options.initialWeights,
      options.teacherCache !== undefined,
      options.rewardModels,
    )
    trainer.cache = options.teacherCache ?? null
    if (options.curriculum) trainer.startCurriculum(options.curriculum.difficulty, options.resume)
    if (options.teacher) trainer.teacher = Teacher.load(options.teacher, modelConfig, alignment)
    const threads = config.threads ?? 1
    if (threads > 1) {
      if (!options.replicaEntry)
        throw new Error('Data-parallel training needs the replica entry point.')
      trainer.pool = await ReplicaPool.start(
        threads - 1,
        {
          entry: options.replicaEntry,
          backend: options.backend ?? tf.getBackend(),
          model: modelConfig,
          precision: config.precision,
          labelSmoothing: config.labelSmoothing,
          checkpointing: config.gradientCheckpointing,
          distill:
            options.teacher || options.teacherCache
              ? { temperature: config.distillTemperature, alignment }
              : null,
        },
        trainer.params,
      )
    }
    return trainer
  }

  private constructor(
    readonly modelConfig: ModelConfig,
    readonly config: TrainConfig,
    private readonly data: TokenData,
    private readonly alignment: HiddenAlignment | null,
    resume?: TrainingState,
    initialWeights?: ReadonlyMap<string, Float32Array>,
    /** Sequences start at window boundaries (cached teacher predictions are per window). */
    private readonly aligned = false,
    rewardModels: ReadonlyMap<number, RewardModelWeights> = new Map(),
  ) {
    if (data.vocabSize > modelConfig.vocabSize) {
      throw new Error(
        `The data uses ${data.vocabSize} token ids but the model has only ${modelConfig.vocabSize}.`,
      )
    }
    const lora = config.lora
    const reward = isRewardRun(config)
    // LoRA's int8Base: the adapted weights go here (host memory) instead of into params.
    this.int8Bases = lora?.int8Base ? new Map() : null
    const int8Names = new Set(lora?.int8Base ? adaptedWeights(modelConfig, lora.targets) : [])
    this.model = new Transformer(
      modelConfig,
      lora
        ? {
            scale: adapterScale(lora),
            dropout: lora.dropout,
            ...(this.int8Bases ? { int8Bases: this.int8Bases } : {}),
          }
        : null,
      reward ? 'score' : 'logits',
    )
    // The model's parameters, then the hidden-state alignment's projections (if any), then
    // with LoRA the adapters, the only ones trained (the rest frozen); a reward model's
    // scalar head last, in place of the vocabulary head it does not use.
    const specs = lora
      ? [
          ...trainingSpecs(modelConfig, alignment).map((s) => ({ ...s, trainable: false })),
          ...adapterSpecs(modelConfig, lora),
        ]
      : reward
        ? [
            ...trainingSpecs(modelConfig, alignment).map((s) =>
              s.name === names.lmHead ? { ...s, trainable: false } : s,
            ),
            scoreSpec(modelConfig),
          ]
        : trainingSpecs(modelConfig, alignment)
    if (lora && !initialWeights)
      throw new Error('LoRA adapts a trained model: the run needs the weights it starts from.')
    // Separate streams so, e.g., changing the batch size does not change the initialization.
    const root = new Rng(config.seed)
    const initRng = root.fork()
    const samplerSeed = root.fork().state()
    const dropSeed = root.fork().state()
    // A LoRA run's checkpoint holds only its adapters: the frozen weights come from its base.
    const init = resume
      ? lora
        ? initialWeights!
        : null
      : new Map([
          ...(initialWeights ?? initialValues(modelConfig, initRng)),
          ...initialProjections(alignment, root.fork()),
          ...(lora ? initialAdapters(modelConfig, lora, root.fork()) : []),
          ...(reward ? initialScore(modelConfig, root.fork()) : []),
        ])
    for (const spec of specs) {
      const values = resume?.tensors.get(`param/${spec.name}`) ?? init?.get(spec.name)
      if (!values) throw new Error(`The checkpoint has no parameter ${spec.name}.`)
      if (values.length !== spec.shape.reduce((a, b) => a * b, 1))
        throw new Error(
          `${spec.name} has ${values.length} values; the model needs [${spec.shape.join(', ')}].`,
        )
      if (int8Names.has(spec.name)) {
        this.int8Bases!.set(spec.name, quantizeWeight(values, spec.shape))
        continue
      }
      this.params.set(spec.name, ownedVariable(tf.tensor(values, spec.shape), spec.trainable))
    }
    this.trainable = specs.filter((s) => s.trainable).map((s) => s.name)
    const trainableParams = new Map(this.trainable.map((n) => [n, this.params.get(n)!]))
    this.optimizer = new AdamW(
      trainableParams,
      new Set(specs.filter((s) => s.decay).map((s) => s.name)),
      {
        beta1: config.beta1,
        beta2: config.beta2,
        eps: config.adamEps,
        weightDecay: config.weightDecay,
      },
    )
    if (resume) {
      tf.tidy(() => {
        for (const [name, m] of this.optimizer.m)
          m.assign(tf.tensor(resume.tensors.get(`adam.m/${name}`)!, m.shape))
        for (const [name, v] of this.optimizer.v)
          v.assign(tf.tensor(resume.tensors.get(`adam.v/${name}`)!, v.shape))
      })
      this.optimizer.t = resume.adamSteps
    }
    this.step = resume?.step ?? 0
    this.objective = preferenceObjective(config)
    this.sampler = data.preference
      ? new PreferenceSampler(
          data.preference.train,
          config.batchSize,
          resume?.samplerRng ?? samplerSeed,
        )
      : data.packed
        ? new PackedSampler(data.packed.train, config.batchSize, resume?.samplerRng ?? samplerSeed)
        : new BatchSampler(
            data.train,
            config.batchSize,
            sequenceLengthOf(config, modelConfig.contextLength),
            resume?.samplerRng ?? samplerSeed,
            aligned ? sequenceLengthOf(config, modelConfig.contextLength) : null,
          )
    if (data.prompts) {
      const grpo = grpoSettings(config)
      this.policyObjective = { clip: grpo.clip, klBeta: grpo.klBeta }
      this.policy = new PolicyRollouts(
        this.model,
        grpo,
        data.prompts,
        data.prompts.tokenizer,
        new Set(data.prompts.tokenizer.specialTokens.map((t) => t.id)),
        grpo.klBeta > 0 ? this.referenceModel(initialWeights) : null,
        resume?.samplerRng ?? samplerSeed,
        new Map([...rewardModels].map(([index, m]) => [index, new RewardScorer(m)])),
      )
    }
    this.dropRng = new Rng(resume?.dropPathRng ?? dropSeed)
    this.scaler = new LossScaler(usesLossScaling(config), 2 ** 16, 2000, resume?.lossScale)
    this.noise = config.adaptiveBatch
      ? new NoiseScale(
          Math.max(2, config.gradAccumulation),
          Math.max(2, config.gradAccumulation, config.maxGradAccumulation),
          resume?.noiseScale ?? undefined,
        )
      : null
    this.tokensSeen = resume ? (resume.tokensSeen ?? resume.step * this.tokensPerStep) : 0
    this.numerics = numericsFor(config.precision)
    this.qatNumerics = qatNumerics(this.numerics, config.qatActivations)
  }

  /**
   * GRPO's reference, the model the run starts from: with LoRA the frozen base itself (a
   * model without the adapters over the same weights), else a frozen copy of its weights.
   */
  private referenceModel(initialWeights: ReadonlyMap<string, Float32Array> | undefined): {
    model: Transformer
    params: Params
  } {
    if (this.config.lora) {
      // The same weights without the adapters (those in int8 included).
      const model = new Transformer(
        this.modelConfig,
        this.int8Bases ? { scale: 0, dropout: 0, int8Bases: this.int8Bases } : null,
      )
      const frozen = [...this.params].filter(([name]) => !isAdapterName(name))
      return { model, params: Object.fromEntries(frozen) }
    }
    const model = new Transformer(this.modelConfig)
    if (!initialWeights)
      throw new Error('GRPO with a KL penalty needs the weights the run started from.')
    const params: Params = {}
    for (const spec of paramSpecs(this.modelConfig)) {
      const values = initialWeights.get(spec.name)
      if (!values) throw new Error(`The starting checkpoint has no parameter ${spec.name}.`)
      params[spec.name] = tf.tensor(values, spec.shape)
    }
    return { model, params }
  }

  /** GRPO: the reward rules' failures so far (each with its reply), and their counts by rule. */
  get ruleFailures(): { list: readonly RuleFailure[]; counts: ReadonlyMap<string, number> } | null {
    const rules = this.policy?.rules
    return rules ? { list: rules.failures, counts: rules.failureCounts } : null
  }

  /** Tokens per training sequence (the model's context unless the run asks for shorter). */
  get sequenceLength(): number {
    return sequenceLengthOf(this.config, this.modelConfig.contextLength)
  }

  /** Whether this step trains with int8 fake quantization (from `qatStart` of the steps on). */
  get qatActive(): boolean {
    const start = this.config.qatStart
    return start !== null && this.step >= Math.floor(start * this.config.steps)
  }

  /** Tokens of a step at the full sequence length and batch size (the schedules may use fewer). */
  get tokensPerStep(): number {
    return tokensPerStep(this.config, this.modelConfig.contextLength)
  }

  /** Draw batches by difficulty from here on (the sampler's RNG continues the run's). */
  private startCurriculum(difficulty: Float32Array, resume?: TrainingState): void {
    this.curriculum = {
      sampler: new CurriculumSampler(
        this.data.train,
        this.sequenceLength,
        difficulty,
        this.sampler.state(),
        this.aligned,
      ),
      thresholds: this.config.curriculumThresholds ?? tertileThresholds(difficulty),
      loss: resume?.curriculumLoss ?? null,
    }
  }

  /** The curriculum's bucket edges and mix thresholds (for logs and tests). */
  get curriculumInfo(): { buckets: number[]; thresholds: Thresholds } | null {
    const c = this.curriculum
    return c ? { buckets: c.sampler.buckets.map((b) => b.length), thresholds: c.thresholds } : null
  }

  /** One optimizer step over `gradAccumulation` micro-batches. */
  async trainStep(): Promise<StepMetrics> {
    const started = performance.now()
    const qat = this.qatActive
    const c = this.config
    const S = this.scaler.scale
    const lr = learningRate(c, this.step)
    const T = contextLengthAt(c, this.sequenceLength, this.step)
    const B = batchSizeAt(c, T, this.step)
    const micros = this.noise?.accumulation ?? c.gradAccumulation
    const mix = this.curriculum ? mixFor(this.curriculum.loss, this.curriculum.thresholds) : null
    const microSq: number[] = []
    let loss = 0
    let aux = 0
    let kl: number | null = null
    let hidden: number | null = null
    let preference: PreferenceMetrics | null = null
    const policy: PolicyStepMetrics[] = []
    let tokens = 0
    let sequences = 0
    const weights =
      this.teacher || this.cache ? distillWeights(c, this.step, this.alignment !== null) : null
    let grads: Map<string, tf.Tensor> | null = null
    const moeStats: (MoeStats | null)[][] = []
    for (let micro = 0; micro < micros; micro++) {
      const drawn = this.policy
        ? await this.policy.next(micro, B, Object.fromEntries(this.params), this.stepNumerics)
        : null
      const batch =
        drawn?.batch ??
        (this.curriculum ? this.curriculum.sampler.next(B, T, mix!) : this.sampler.next(B, T))
      tokens += batch.B * batch.T
      sequences += batch.B
      const masks = this.dropPathMasks(batch.B, batch.T)
      const teacher =
        (await this.teacher?.targets(batch, c.distillTemperature)) ??
        this.cache?.targets(batch.windows!, batch.T) ??
        null
      const r = this.pool
        ? await this.parallelGradients(batch, masks, S, teacher, weights)
        : await this.localGradients(batch, masks, S, teacher, weights, this.adapterSeed(micro))
      if (teacher) tf.dispose([teacher.soft, ...teacher.hidden])
      // The adaptive batch needs each micro-batch's own gradient norm (unscaled).
      if (this.noise) microSq.push((await sumOfSquares([...r.grads.values()])) / (S * S))
      loss += r.loss / micros
      aux += r.aux / micros
      if (r.kl !== null) kl = (kl ?? 0) + r.kl / micros
      if (r.hidden !== null) hidden = (hidden ?? 0) + r.hidden / micros
      if (r.preference) {
        const p: PreferenceMetrics = preference ?? {
          chosenReward: 0,
          rejectedReward: 0,
          accuracy: 0,
        }
        preference = {
          chosenReward: p.chosenReward + r.preference.chosenReward / micros,
          rejectedReward: p.rejectedReward + r.preference.rejectedReward / micros,
          accuracy: p.accuracy + r.preference.accuracy / micros,
        }
      }
      if (drawn && r.policy)
        policy.push({ ...drawn.stats, ...r.policy, fresh: drawn.fresh ? 1 : 0 })
      moeStats.push(r.moe)
      if (!grads) grads = r.grads
      else {
        for (const [name, g] of r.grads) {
          const sum = tf.add(grads.get(name)!, g)
          grads.get(name)!.dispose()
          g.dispose()
          grads.set(name, sum)
        }
      }
    }
    const all = grads!
    // Gradients are of S·Σ(loss): this factor brings them to the mean loss's scale.
    const unscale = 1 / (S * micros)
    const normSq = (await sumOfSquares([...all.values()])) * unscale * unscale
    const lossFinite = Number.isFinite(loss)
    const apply = this.scaler.update(lossFinite && Number.isFinite(normSq))
    const gradNorm = Math.sqrt(normSq)
    if (apply) {
      const clip = c.gradClip > 0 && gradNorm > c.gradClip ? c.gradClip / (gradNorm + 1e-6) : 1
      this.optimizer.step(this.params, all, lr, clip * unscale)
      this.balanceExperts(moeStats)
      this.pool?.publish(this.params)
      this.noise?.observe(microSq, normSq, B)
    }
    if (this.curriculum && lossFinite) {
      const prev = this.curriculum.loss
      this.curriculum.loss = prev === null ? loss : LOSS_EMA * prev + (1 - LOSS_EMA) * loss
    }
    this.tokensSeen += tokens
    for (const g of all.values()) g.dispose()
    // A skipped step from loss-scale overflow is routine; a non-finite loss is divergence.
    this.badSteps = lossFinite ? 0 : this.badSteps + 1
    const step = this.step++
    // A GPU error leaves outputs unwritten: never train on from one.
    throwIfBackendFailed()
    trimGpuPool()
    if (this.badSteps >= c.maxBadSteps) throw new DivergedError(this.badSteps)
    return {
      step,
      loss,
      aux,
      lr,
      gradNorm,
      lossScale: S,
      skipped: !apply,
      qat,
      kl,
      hidden,
      distillStage: weights?.stage ?? null,
      preference,
      policy: policy.length ? meanPolicy(policy) : null,
      skippedTotal: this.scaler.state.skippedSteps,
      tokens,
      contextLength: T,
      sequences,
      microBatches: micros,
      mix,
      noiseScale: this.noise?.value ?? null,
      wallMs: performance.now() - started,
      moe: this.moeMetrics(moeStats),
    }
  }

  /** This step's matmul numerics: int8 fake quantization once QAT is on. */
  private get stepNumerics() {
    return this.qatActive ? this.qatNumerics : this.numerics
  }

  /** LoRA dropout's seed for a micro-batch: fixed by the run's seed and the step (resumable). */
  private adapterSeed(micro: number): number | undefined {
    const lora = this.config.lora
    if (!lora || lora.dropout === 0) return undefined
    return (Math.imul(this.config.seed + 1, 0x9e3779b1) ^ Math.imul(this.step, 1021) ^ micro) >>> 0
  }

  private localGradients(
    batch: Batch,
    masks: (Float32Array | null)[] | null,
    S: number,
    teacher: TeacherTargets | null,
    weights: DistillWeights | null,
    adapterSeed?: number,
  ): Promise<GradientResult> {
    return computeGradients({
      ...(adapterSeed !== undefined ? { adapterSeed } : {}),
      model: this.model,
      params: this.params,
      trainable: this.trainable,
      batch,
      numerics: this.stepNumerics,
      lossScale: S,
      labelSmoothing: this.config.labelSmoothing,
      dropPath: masks,
      checkpointing: this.config.gradientCheckpointing,
      preference: this.objective,
      policy: this.policyObjective,
      distill:
        teacher && weights
          ? {
              teacher: teacher.soft,
              temperature: this.config.distillTemperature,
              weights,
              hidden: this.alignment
                ? { alignment: this.alignment, targets: teacher.hidden }
                : null,
            }
          : null,
    })
  }

  /**
   * Shard 0 on this thread, the others on the replicas, all at once; then the weighted
   * sum Σ (nᵢ/n)·gᵢ in shard order, which is the full batch's gradient and deterministic.
   */
  private async parallelGradients(
    batch: Batch,
    masks: (Float32Array | null)[] | null,
    S: number,
    teacher: TeacherTargets | null,
    distill: DistillWeights | null,
  ): Promise<GradientResult> {
    const pool = this.pool!
    const { B, T } = batch
    // The teacher ran on the whole batch here; each replica gets its shard's rows.
    const soft = teacher ? ((await teacher.soft.data()) as Float32Array) : null
    const states = teacher
      ? ((await Promise.all(teacher.hidden.map((h) => h.data()))) as Float32Array[])
      : []
    const V = this.modelConfig.vocabSize
    const D = this.alignment?.teacherWidth ?? 0
    const sizes = shardSizes(B, pool.size + 1).filter((n) => n > 0)
    const shards = sizes.map((n, i) => {
      const start = sizes.slice(0, i).reduce((a, b) => a + b, 0) * T
      const end = start + n * T
      return {
        inputs: batch.inputs.slice(start, end),
        targets: batch.targets.slice(start, end),
        B: n,
        T,
        dropPath: masks?.map((m) => (m ? m.slice(start, end) : null)) ?? null,
        lossScale: S,
        qat: this.qatActive ? this.config.qatActivations : null,
        teacher: soft ? soft.slice(start * V, end * V) : null,
        distillWeights: distill,
        teacherHidden: this.alignment ? states.map((h) => h.slice(start * D, end * D)) : null,
        packing: batch.packing
          ? {
              positions: batch.packing.positions.slice(start, end),
              segments: batch.packing.segments.slice(start, end),
              weights: batch.packing.weights.slice(start, end),
            }
          : null,
      }
    })
    const remote = pool.run(shards.slice(1)) // replicas start now...
    const first = shards[0]
    const localTeacher: TeacherTargets | null = first.teacher
      ? {
          soft: tf.tensor2d(first.teacher, [first.B * T, V]),
          hidden: (first.teacherHidden ?? []).map((h) => tf.tensor2d(h, [first.B * T, D])),
        }
      : null
    // ...while this thread does shard 0.
    const { packing, ...rows } = first
    const local = await this.localGradients(
      packing ? { ...rows, packing } : rows,
      first.dropPath,
      S,
      localTeacher,
      distill,
    )
    if (localTeacher) tf.dispose([localTeacher.soft, ...localTeacher.hidden])
    const results = await remote
    this.replicaTensors = results.map((r) => r.tensors)
    const weights = sizes.map((n) => n / B)
    const grads = new Map<string, tf.Tensor>()
    const view = hostView()
    for (const [name, g0] of local.grads) {
      if (view) {
        // In place, in one pass: shard 0's gradient becomes the weighted sum of all shards.
        const g = view(g0)
        const parts = results.map((_, i) => pool.gradientView(i, name))
        for (let j = 0; j < g.length; j++) {
          let sum = g[j] * weights[0]
          for (let i = 0; i < parts.length; i++) sum += parts[i][j] * weights[i + 1]
          g[j] = sum
        }
        grads.set(name, g0)
        continue
      }
      const shape = g0.shape
      grads.set(
        name,
        tf.tidy(() =>
          tf.addN([
            tf.mul(g0, weights[0]),
            ...results.map((_, i) => tf.mul(pool.gradient(i, name, shape), weights[i + 1])),
          ]),
        ),
      )
      g0.dispose()
    }
    const all = [local, ...results]
    return {
      loss: all.reduce((acc, r, i) => acc + r.loss * weights[i], 0),
      aux: all.reduce((acc, r, i) => acc + r.aux * weights[i], 0),
      kl: teacher ? all.reduce((acc, r, i) => acc + (r.kl ?? 0) * weights[i], 0) : null,
      hidden: this.alignment
        ? all.reduce((acc, r, i) => acc + (r.hidden ?? 0) * weights[i], 0)
        : null,
      grads,
      // Each shard's routing, as if it were a micro-batch: loads and balancing add up.
      moe: mergeMoe(all.map((r) => r.moe)),
      // Preference and GRPO runs train on one thread (resolveThreads): nothing to merge.
      preference: null,
      policy: null,
    }
  }

  /**
   * Mean validation loss over `batches` batches; the same batches every call, so
   * evaluations compare. The batches' losses stay on the device and are read once.
   */
  async evaluate(
    batches = this.config.evalBatches,
    tokens: Uint16Array | Int32Array = this.data.val,
  ): Promise<number> {
    if (this.data.preference && this.objective)
      return this.evaluatePairs(this.data.preference.val, this.objective, batches)
    if (this.policy) {
      // GRPO: the held-out prompts answered (sampled and greedily), and below, the
      // reference answers' loss.
      const e = await this.policy.evaluate(
        Object.fromEntries(this.params),
        batches * this.config.batchSize,
        this.numerics,
      )
      this.lastPolicyEval = e
      this.lastEval = {
        reward: e.reward,
        greedy_reward: e.greedyReward,
        ...(e.accuracy !== null ? { accuracy: e.accuracy } : {}),
        ...(e.greedyAccuracy !== null ? { greedy_accuracy: e.greedyAccuracy } : {}),
      }
    }
    const packed = this.data.packed?.val
    const B = this.config.batchSize
    // Fine-tuning: the validation conversations' first rows, in order (all, if fewer).
    const count = packed ? Math.max(1, Math.min(batches, Math.ceil(packed.count / B))) : batches
    const sampler = packed
      ? null
      : new BatchSampler(tokens, B, this.sequenceLength, this.config.seed ^ 0x5eed)
    const P: Params = Object.fromEntries(this.params)
    const losses: tf.Scalar[] = []
    try {
      for (let i = 0; i < count; i++) {
        const b = packed
          ? packedBatch(
              packed,
              Int32Array.from({ length: B }, (_, j) => (i * B + j) % packed.count),
            )
          : sampler!.next()
        const ids = tf.tensor1d(b.inputs, 'int32')
        const tables = b.packing
          ? this.model.packedTables(b.packing.positions, b.packing.segments, b.B, b.T)
          : null
        const out = await this.model.forwardAsync(P, ids, b.B, b.T, tables ? { tables } : {})
        if (tables) Transformer.disposeTables(tables)
        losses.push(
          tf.tidy(() =>
            crossEntropy(
              out.logits,
              tf.tensor1d(b.targets, 'int32'),
              0,
              b.packing ? tf.tensor1d(b.packing.weights) : null,
            ),
          ),
        )
        tf.dispose([ids, out.logits, ...(out.aux ? [out.aux] : [])])
      }
      return (await readSum(losses.splice(0))) / count
    } finally {
      tf.dispose(losses)
    }
  }

  /**
   * Preference training's validation: the loss over the held-out pairs (the first
   * `batches` batches, in order), and in `lastEval` the share of pairs the model orders
   * right (`accuracy`), the mean rewards of the chosen and rejected replies, and the share
   * whose chosen reply the model finds likelier per token (`preferred`).
   */
  private async evaluatePairs(
    rows: PreferenceRows,
    objective: PreferenceObjective,
    batches: number,
  ): Promise<number> {
    const B = this.config.batchSize
    const pairs = pairCount(rows)
    const count = Math.max(1, Math.min(batches, Math.ceil(pairs / B)))
    const P: Params = Object.fromEntries(this.params)
    const parts: tf.Scalar[] = []
    try {
      for (let i = 0; i < count; i++) {
        const picks = Int32Array.from({ length: Math.min(B, pairs - i * B) }, (_, j) => i * B + j)
        if (picks.length === 0) break
        const b = preferenceBatch(rows, picks)
        const ids = tf.tensor1d(b.inputs, 'int32')
        const tables = this.model.packedTables(b.packing!.positions, b.packing!.segments, b.B, b.T)
        const out = await this.model.forwardAsync(P, ids, b.B, b.T, { tables })
        Transformer.disposeTables(tables)
        const scored = tf.tidy(() => {
          const o = preferenceLoss(
            out.logits,
            tf.tensor1d(b.targets, 'int32'),
            b.preference!,
            objective,
          )
          return [o.loss, o.accuracy, o.chosenReward, o.rejectedReward, o.preferred]
        })
        parts.push(...scored)
        tf.dispose([ids, out.logits, ...(out.aux ? [out.aux] : [])])
      }
      const values = await readTogether(parts.splice(0))
      const mean = (k: number) =>
        values.filter((_, i) => i % 5 === k).reduce((a, v) => a + v[0], 0) / (values.length / 5)
      this.lastEval = {
        accuracy: mean(1),
        chosen_reward: mean(2),
        rejected_reward: mean(3),
        preferred: mean(4),
      }
      return mean(0)
    } finally {
      tf.dispose(parts)
    }
  }

  /**
   * A complete copy of the training state, read back asynchronously (all at once), then
   * free to continue.
   */
  async state(): Promise<TrainingState> {
    // A LoRA run saves its adapters alone: its base is the checkpoint it started from.
    const saved = [...this.params].filter(([name]) => !this.config.lora || isAdapterName(name))
    const entries: [string, tf.Tensor][] = [
      ...saved.map(([name, p]): [string, tf.Tensor] => [`param/${name}`, p]),
      ...[...this.optimizer.m].map(([name, m]): [string, tf.Tensor] => [`adam.m/${name}`, m]),
      ...[...this.optimizer.v].map(([name, v]): [string, tf.Tensor] => [`adam.v/${name}`, v]),
    ]
    // The arrays are handed to the checkpoint writer's thread (transferred): owned copies.
    const values = await Promise.all(entries.map(([, t]) => readOwned(t)))
    const tensors = new Map(entries.map(([key], i) => [key, values[i]]))
    return {
      step: this.step,
      model: this.modelConfig,
      train: this.config,
      tensors,
      adamSteps: this.optimizer.t,
      samplerRng: (this.curriculum?.sampler ?? this.policy ?? this.sampler).state(),
      dropPathRng: this.dropRng.state(),
      lossScale: { ...this.scaler.state },
      tokensSeen: this.tokensSeen,
      curriculumLoss: this.curriculum?.loss ?? null,
      noiseScale: this.noise ? { ...this.noise.state } : null,
    }
  }

  async dispose(): Promise<void> {
    await this.pool?.close()
    this.teacher?.dispose()
    // With LoRA the reference's weights are the run's own frozen ones.
    this.policy?.dispose(this.config.lora === null)
    for (const p of this.params.values()) p.dispose()
    this.optimizer.dispose()
    this.model.dispose()
  }

  /** Per layer, multipliers per token row: 0 for a dropped sequence, 1/(1-p) for a kept one. */
  private dropPathMasks(B: number, T: number): (Float32Array | null)[] | null {
    const L = this.modelConfig.layers
    if (this.config.dropPath === 0) return null
    return Array.from({ length: L }, (_, l) => {
      const p = dropPathRate(this.config, L, l, this.step)
      if (p === 0) return null
      const m = new Float32Array(B * T)
      for (let b = 0; b < B; b++)
        m.fill(this.dropRng.next() < p ? 0 : 1 / (1 - p), b * T, (b + 1) * T)
      return m
    })
  }

  /** DeepSeek-V3's bias update on each MoE weight set, from the loads this step chose. */
  private balanceExperts(stats: (MoeStats | null)[][]): void {
    const moe = this.modelConfig.moe
    // Under LoRA the router bias is part of the frozen base.
    if (!moe || moe.balance !== 'aux-free' || moe.biasUpdateRate === 0 || this.config.lora) return
    const perSet = new Map<number, Int32Array>()
    for (const micro of stats) {
      micro.forEach((s, layer) => {
        if (!s) return
        const set = weightSetOf(this.modelConfig, layer)
        const acc = perSet.get(set) ?? new Int32Array(s.chosenLoad.length)
        s.chosenLoad.forEach((n, e) => (acc[e] += n))
        perSet.set(set, acc)
      })
    }
    for (const [set, load] of perSet) {
      const bias = this.params.get(names.routerBias(set))!
      tf.tidy(() =>
        bias.assign(
          rebalancedBias(bias as tf.Tensor1D, tf.tensor1d(load, 'float32'), moe.biasUpdateRate),
        ),
      )
    }
  }

  private moeMetrics(stats: (MoeStats | null)[][]): MoeLayerMetrics[] {
    const out: MoeLayerMetrics[] = []
    for (let layer = 0; layer < this.modelConfig.layers; layer++) {
      if (!isMoeLayer(this.modelConfig, layer)) continue
      const perMicro = stats.map((m) => m[layer]).filter((s): s is MoeStats => !!s)
      if (!perMicro.length) continue
      const E = perMicro[0].load.length
      const load = new Array<number>(E).fill(0)
      for (const s of perMicro) s.load.forEach((n, e) => (load[e] += n))
      const total = load.reduce((a, b) => a + b, 0) || 1
      const shares = load.map((n) => n / total)
      out.push({
        layer,
        load: shares,
        imbalance: Math.max(...shares) * E,
        entropy: mean(perMicro.map((s) => s.entropy)),
        dropped: perMicro.reduce((a, s) => a + s.dropped, 0),
        meanExperts: mean(perMicro.map((s) => s.meanExperts)),
      })
    }
    return out
  }
}

/** Σ g² over every gradient: one host pass where memory is addressable, else one read-back. */
async function sumOfSquares(grads: tf.Tensor[]): Promise<number> {
  const view = hostView()
  if (!view) return readSum(grads.map((g) => tf.tidy(() => tf.sum(tf.square(g)))))
  let total = 0
  for (const g of grads) {
    const v = view(g)
    for (let i = 0; i < v.length; i++) total += v[i] * v[i]
  }
  return total
}

/** Per layer, the stats of every shard merged: loads and counts add, averages average. */
function mergeMoe(shards: (MoeStats | null)[][]): (MoeStats | null)[] {
  return shards[0].map((first, layer) => {
    const all = shards.map((s) => s[layer]).filter((s): s is MoeStats => !!s)
    if (!first || all.length === 0) return null
    const add = (pick: (s: MoeStats) => Int32Array) => {
      const out = new Int32Array(pick(first).length)
      for (const s of all) pick(s).forEach((n, e) => (out[e] += n))
      return out
    }
    const tokens = all.reduce((a, s) => a + s.tokens, 0)
    const weighted = (pick: (s: MoeStats) => number) =>
      all.reduce((a, s) => a + pick(s) * s.tokens, 0) / tokens
    return {
      load: add((s) => s.load),
      chosenLoad: add((s) => s.chosenLoad),
      dropped: all.reduce((a, s) => a + s.dropped, 0),
      tokensWithoutExpert: all.reduce((a, s) => a + s.tokensWithoutExpert, 0),
      meanExperts: weighted((s) => s.meanExperts),
      entropy: weighted((s) => s.entropy),
      tokens,
    }
  })
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0)

/** GRPO's measures over a step's micro-batches: means, and the fresh ones counted. */
function meanPolicy(micros: PolicyStepMetrics[]): PolicyStepMetrics {
  const of = (pick: (m: PolicyStepMetrics) => number) => mean(micros.map(pick))
  const checked = micros.filter((m) => m.accuracy !== null)
  return {
    reward: of((m) => m.reward),
    spread: of((m) => m.spread),
    flat: of((m) => m.flat),
    length: of((m) => m.length),
    accuracy: checked.length ? mean(checked.map((m) => m.accuracy!)) : null,
    kl: of((m) => m.kl),
    clipped: of((m) => m.clipped),
    fresh: micros.reduce((a, m) => a + m.fresh, 0),
  }
}

/** How a preference run scores its pairs (β and γ with their per-method defaults); null otherwise. */
function preferenceObjective(c: TrainConfig): PreferenceObjective | null {
  if (!isPreferenceRun(c)) return null
  if (isRewardRun(c)) return { kind: 'reward', beta: 1, margin: 0 }
  const simpo = c.kind === 'simpo'
  return {
    kind: simpo ? 'simpo' : 'dpo',
    beta: c.preferenceBeta ?? (simpo ? 2 : 0.1),
    margin: simpo ? c.simpoMargin : 0,
  }
}

/**
 * A reward model's scalar head drawn like Hugging Face's (N(0, 0.02²)): scores start near
 * zero and unordered, so the accuracy at step 0 is chance, not a tie.
 */
function initialScore(c: ModelConfig, rng: Rng): [string, Float32Array][] {
  return [[names.score, rng.normalArray(c.width, 0.02)]]
}
