import { z } from 'zod'

/**
 * What a run learns: plain text (pretraining), conversations (supervised fine-tuning),
 * which of two replies is better (preference training: DPO, SimPO), to score replies
 * (a reward model, trained on the same pairs and on 1-5 ratings), or to earn rewards
 * for replies it samples itself (GRPO, reinforcement with verifiable rewards).
 */
export const runKinds = ['pretrain', 'sft', 'dpo', 'simpo', 'reward', 'grpo'] as const
export type RunKind = (typeof runKinds)[number]

/** What low-rank adapters may adapt: attention's projections, the dense MLP (and shared experts), the routed experts. */
export const loraTargets = ['attention', 'mlp', 'experts'] as const
export type LoraTarget = (typeof loraTargets)[number]

/** LoRA: the model's weights frozen, a low-rank update A·B learned beside each targeted one. */
export const loraConfigSchema = z
  .object({
    rank: z
      .int()
      .min(1)
      .max(256)
      .default(8)
      .describe('r: the rank of each update A·B (A is in×r, B r×out). 8-16 is usual.'),
    alpha: z
      .number()
      .positive()
      .max(4096)
      .default(16)
      .describe('α: the update is scaled by α/r, so changing r keeps its size (2r is usual).'),
    dropout: z
      .number()
      .min(0)
      .max(0.9)
      .default(0)
      .describe("Dropout on each adapter's input while training."),
    targets: z
      .array(z.enum(loraTargets))
      .min(1)
      .default(['attention', 'mlp'])
      .describe(
        "Which weights get an adapter: attention (q, k, v, output), mlp (the dense feed-forward and an MoE layer's shared experts), experts (each routed expert's).",
      ),
    int8Base: z
      .boolean()
      .default(false)
      .describe(
        'Hold the frozen weights that get adapters as 8-bit integers (one scale per output column), a quarter of their float32 memory, outside the backend: each is expanded to float32 only while a product needs it, so a step takes somewhat longer. The adapters learn against the rounded weights, and the merged model is the rounded weights plus the adapters, exactly what training saw.',
      ),
  })
  .strict()
export type LoraConfig = z.output<typeof loraConfigSchema>

/**
 * One of the rules a GRPO run scores its sampled replies by. Each gives a score in [0, 1]
 * (the length rule a penalty in [−1, 0]), multiplied by its weight; a reply's reward is
 * their sum. The reference answer is the last assistant turn of the prompt's conversation.
 */
export const rewardRuleSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('exact'),
      weight: z.number().min(-100).max(100).default(1),
    })
    .strict()
    .describe(
      'exact: 1 when the reply equals the reference answer (ends of lines and surrounding spaces aside), else 0.',
    ),
  z
    .object({
      kind: z.literal('numeric'),
      tolerance: z.number().min(0).default(0),
      weight: z.number().min(-100).max(100).default(1),
    })
    .strict()
    .describe(
      "numeric: 1 when the reply's last number is within the tolerance of the reference answer's last number, else 0.",
    ),
  z
    .object({
      kind: z.literal('regex'),
      pattern: z.string().min(1).max(1000),
      weight: z.number().min(-100).max(100).default(1),
    })
    .strict()
    .describe(
      'regex: 1 when the reply matches the regular expression (JavaScript syntax; anchor it with ^ and $ to match the whole reply), else 0. A format reward.',
    ),
  z
    .object({
      kind: z.literal('length'),
      target: z.int().min(1).default(32),
      weight: z.number().min(-100).max(100).default(1),
    })
    .strict()
    .describe(
      'length: a penalty, −(tokens beyond the target)/target, at most −1, for replies longer than the target.',
    ),
  z
    .object({
      kind: z.literal('reward-model'),
      run: z.string().min(1).max(200),
      checkpoint: z.int().min(1).nullable().default(null),
      weight: z.number().min(-100).max(100).default(1),
    })
    .strict()
    .describe(
      "reward-model: the score a reward model (a run of kind reward on the same tokenizer, by id or name; its newest checkpoint when the run is created) gives the prompt and reply. Only differences within a group count, which is what GRPO's advantages measure.",
    ),
])
export type RewardRule = z.output<typeof rewardRuleSchema>

/** GRPO (Shao et al. 2024, DeepSeek-R1's reinforcement): its sampling, objective and rewards. */
export const grpoConfigSchema = z
  .object({
    group: z
      .int()
      .min(2)
      .max(64)
      .default(8)
      .describe(
        "G: replies sampled per prompt. Each reply's advantage is its reward's standing in its group, (r − mean)/std.",
      ),
    maxNewTokens: z
      .int()
      .min(1)
      .max(4096)
      .default(64)
      .describe(
        "Tokens a sampled reply may have (and within the model's context with its prompt); it ends earlier at the chat template's end of turn.",
      ),
    temperature: z
      .number()
      .positive()
      .max(2)
      .default(1)
      .describe('Sampling temperature of the replies: 1 samples the model as it is.'),
    clip: z
      .number()
      .positive()
      .max(1)
      .default(0.2)
      .describe(
        'ε: the probability ratio to the sampling model is clipped to [1 − ε, 1 + ε] (PPO), which matters when a batch of replies is reused for several steps.',
      ),
    klBeta: z
      .number()
      .min(0)
      .max(10)
      .default(0.04)
      .describe(
        "β: the weight of the KL penalty to the model the run starts from (DeepSeekMath's 0.04). 0 turns it off and keeps no reference.",
      ),
    iterations: z
      .int()
      .min(1)
      .max(16)
      .default(1)
      .describe(
        'μ: optimizer steps on each batch of sampled replies before sampling new ones (1: always fresh, the ratio is then 1 and clipping never acts).',
      ),
    rewards: z
      .array(rewardRuleSchema)
      .min(1)
      .max(16)
      .default([{ kind: 'exact', weight: 1 }])
      .describe(
        "The rules a reply's reward is summed from: exact, numeric (answer checks), regex (format), length (a penalty), reward-model (a trained reward model's score).",
      ),
  })
  .strict()
export type GrpoConfig = z.output<typeof grpoConfigSchema>

/** GEMM input precisions (emulated on float32 backends). */
export const precisions = ['fp32', 'bf16', 'fp16', 'fp8-e4m3', 'fp8-e5m2'] as const
export type Precision = (typeof precisions)[number]

/**
 * How a run trains: one object with documented defaults, saved with the run. The model's
 * shape lives in ModelConfig; this is everything about optimization and bookkeeping.
 */
export const trainConfigSchema = z
  .object({
    kind: z
      .enum(runKinds)
      .default('pretrain')
      .describe(
        'What the run learns. pretrain: to predict every token of the text. sft (supervised fine-tuning): the assistant turns of a dataset of conversations, rendered with the chat template, prompts left out of the loss, several conversations packed per sequence without seeing each other. dpo (direct preference optimization) and simpo (its reference-free variant): to prefer the chosen reply of each preference pair over the rejected one. reward: a reward model, the network with a scalar head in place of its vocabulary, that scores a prompt and reply so the chosen reply of each pair scores higher (Bradley-Terry); it ranks generations. grpo: reinforcement with verifiable rewards, the model samples a group of replies to each prompt of a dataset of conversations, the rules in train.grpo score them against the reference answer (the last assistant turn), and replies better than their group become likelier.',
      ),
    preferenceBeta: z
      .number()
      .positive()
      .max(100)
      .nullable()
      .default(null)
      .describe(
        'Preference training: β, the scale of the implicit reward (how far the model may move from its start). Empty: 0.1 for DPO (Rafailov et al.), 2 for SimPO (Meng et al. recommend 2-2.5).',
      ),
    simpoMargin: z
      .number()
      .min(0)
      .max(100)
      .default(1)
      .describe(
        "SimPO: γ, the margin by which the chosen reply's reward should beat the rejected one's (the paper's γ/β ≈ 0.5).",
      ),
    comparisons: z
      .boolean()
      .default(true)
      .describe(
        "Preference training: also learn from the choices recorded in Evaluate's A/B view (ties are left out); a reward model also from the 1-5 ratings, each two outputs of one prompt rated differently making a pair.",
      ),
    lora: loraConfigSchema
      .nullable()
      .default(null)
      .describe(
        'Train low-rank adapters (LoRA) instead of every weight: the model the run starts from stays frozen, only the adapters learn and are checkpointed (a fraction of the size), and they are folded into the weights for inference and export. Empty: full fine-tuning.',
      ),
    grpo: grpoConfigSchema
      .nullable()
      .default(null)
      .describe(
        'GRPO: group size, sampling, clipping, KL penalty and reward rules. Empty: the defaults.',
      ),
    steps: z.int().min(1).max(10_000_000).default(2000).describe('Total optimizer steps.'),
    sequenceLength: z
      .int()
      .min(8)
      .nullable()
      .default(null)
      .describe(
        "Tokens per training sequence, at most the model's context length. Empty: the context length. Shorter sequences let a model imported with a long context (Qwen2.5: 32,768) train in the memory a short one needs.",
      ),
    batchSize: z
      .int()
      .min(1)
      .max(4096)
      .default(12)
      .describe(
        "Sequences per micro-batch, each of the model's context length (preference training: pairs, two sequences each; GRPO: prompts, each sampled train.grpo.group times).",
      ),
    gradAccumulation: z
      .int()
      .min(1)
      .max(1024)
      .default(1)
      .describe(
        'Micro-batches summed into one optimizer step: a larger effective batch at the same memory.',
      ),
    learningRate: z
      .number()
      .positive()
      .max(10)
      .default(1e-3)
      .describe('Peak learning rate, reached after warmup.'),
    minLearningRate: z.number().min(0).default(1e-4).describe('Floor the learning rate decays to.'),
    warmupSteps: z.int().min(0).default(100).describe('Linear warmup from 0 over this many steps.'),
    decaySteps: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe('Steps over which the rate decays to its floor. Empty: all steps.'),
    schedule: z
      .enum(['cosine', 'linear', 'constant'])
      .default('cosine')
      .describe('Shape of the decay after warmup.'),
    beta1: z.number().min(0).lt(1).default(0.9).describe('AdamW β₁ (momentum).'),
    beta2: z.number().min(0).lt(1).default(0.99).describe('AdamW β₂ (second-moment decay).'),
    adamEps: z.number().positive().default(1e-8).describe('AdamW ε.'),
    weightDecay: z
      .number()
      .min(0)
      .default(0.1)
      .describe('Decoupled weight decay (matrices only; never norms or biases).'),
    gradClip: z
      .number()
      .min(0)
      .default(1)
      .describe('Global gradient-norm clipping threshold; 0 turns it off.'),
    labelSmoothing: z
      .number()
      .min(0)
      .lt(1)
      .default(0)
      .describe('Label smoothing ε of the cross-entropy.'),
    dropPath: z
      .number()
      .min(0)
      .lt(1)
      .default(0)
      .describe(
        "Stochastic depth: the deepest layer's drop rate; shallower layers drop proportionally less. 0: off.",
      ),
    dropPathRampSteps: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe('Steps over which the drop rate rises from 0 to its full value. Empty: all steps.'),
    seed: z
      .int()
      .min(0)
      .default(1337)
      .describe('Seed of every random choice: initialization, batches, DropPath.'),
    precision: z
      .enum(precisions)
      .default('fp32')
      .describe(
        'Precision of matmul inputs. Emulated on float32 backends: the numbers of a bf16/fp16/fp8 GEMM, not its speed.',
      ),
    distillAlpha: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe(
        'With a teacher: the weight of the label loss; the rest goes to T²·KL(teacher ‖ student) at the temperature below.',
      ),
    distillTemperature: z
      .number()
      .min(0.5)
      .max(20)
      .default(2)
      .describe('With a teacher: softmax temperature of the soft targets (Hinton: 1-20).'),
    distillHiddenWeight: z
      .number()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        "With a teacher: weight β of hidden-state alignment, MSE between the outputs of the student's chosen layers (projected by a learned matrix when the widths differ) and the teacher's layers at the same relative depth. 0: off.",
      ),
    distillHiddenLayers: z
      .array(z.int().min(0))
      .max(64)
      .default([])
      .describe('Student layers (from 0) whose outputs are aligned. Empty: the last layer.'),
    distillStages: z
      .object({
        hidden: z
          .number()
          .min(0)
          .max(1)
          .describe('Until this fraction of the steps: hidden states only.'),
        logits: z
          .number()
          .min(0)
          .max(1)
          .describe("Then until this fraction: the teacher's logits only."),
      })
      .strict()
      .refine((s) => s.hidden <= s.logits, 'the hidden stage must end before the logits stage')
      .nullable()
      .default(null)
      .describe(
        'With a teacher: a staged schedule, hidden-state alignment first, then logits, then labels with both (the loss above). Empty: the full loss from the start.',
      ),
    distillCache: z
      .boolean()
      .default(false)
      .describe(
        'With a teacher: run it once over the training data and keep its top-k predictions in the project, instead of running it beside the student every step (for a teacher too slow to run alongside). Sequences then start at window boundaries. Not with hidden-state alignment.',
      ),
    distillCacheTopK: z
      .int()
      .min(1)
      .max(1024)
      .default(16)
      .describe('Predictions kept per position in the teacher cache (renormalized over these).'),
    qatStart: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .default(null)
      .describe(
        'Quantization-aware training from this fraction of the steps on (0.9: the last 10%): weight GEMMs see int8-rounded weights (per output channel) with straight-through gradients. Empty: off.',
      ),
    qatActivations: z
      .enum(['dynamic', 'none'])
      .default('dynamic')
      .describe(
        'During QAT, also round GEMM inputs to int8 per tensor over the batch range (dynamic), or only weights (none).',
      ),
    curriculum: z
      .enum(['off', 'unigram', 'reference'])
      .default('off')
      .describe(
        "Curriculum learning: each context-long window of the training data gets a difficulty (its loss under the run's reference checkpoint or, without one, its teacher's; or its unigram surprisal), windows are split into easy/medium/hard thirds, and batches mix them by the current loss: 70/20/10% while it is high, 30/50/20% in between, 10/30/60% once it is low.",
      ),
    curriculumThresholds: z
      .object({
        high: z.number().positive().describe('Above this smoothed training loss: mostly easy.'),
        low: z.number().positive().describe('Below this: mostly hard.'),
      })
      .strict()
      .refine((t) => t.low <= t.high, 'the low threshold must not exceed the high one')
      .nullable()
      .default(null)
      .describe(
        "Loss thresholds (nats) between the curriculum's mixes. Empty: the tertiles of the windows' difficulties.",
      ),
    contextWarmupSteps: z
      .int()
      .min(0)
      .default(0)
      .describe(
        'Progressive context: sequences grow linearly from the start length to the full context over this many steps (multiples of 8). 0: off.',
      ),
    contextStart: z
      .int()
      .min(8)
      .nullable()
      .default(null)
      .describe(
        'First sequence length of the progressive context. Empty: a quarter of the context.',
      ),
    batchWarmupSteps: z
      .int()
      .min(0)
      .default(0)
      .describe(
        'Progressive batch: sequences per micro-batch grow linearly from the start size to the batch size over this many steps. 0: off.',
      ),
    batchStart: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe('First batch size of the progressive batch. Empty: a quarter of the batch size.'),
    tokenBudget: z
      .int()
      .min(8)
      .nullable()
      .default(null)
      .describe(
        'Tokens per micro-batch instead of a sequence count: each batch holds as many sequences of its length as fit (more while the progressive context is short). Empty: the batch size.',
      ),
    adaptiveBatch: z
      .boolean()
      .default(false)
      .describe(
        'Grow the batch with the gradient noise scale (McCandlish et al. 2018): micro-batches per step follow B_noise between max(2, gradient accumulation) and the maximum below. Memory stays that of one micro-batch.',
      ),
    maxGradAccumulation: z
      .int()
      .min(2)
      .max(1024)
      .default(16)
      .describe('With the adaptive batch: the most micro-batches one step may sum.'),
    lossScaling: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe('Dynamic loss scaling; auto turns it on for fp16 and fp8.'),
    threads: z
      .int()
      .min(1)
      .max(64)
      .nullable()
      .default(null)
      .describe(
        'Data-parallel threads on CPU backends. Empty: one per core (up to 4) on wasm and cpu, 1 on native TensorFlow.',
      ),
    gradientCheckpointing: z
      .boolean()
      .default(false)
      .describe(
        "Recompute each block's activations in the backward pass: far less memory, about a third more compute.",
      ),
    evalEvery: z
      .int()
      .min(0)
      .default(250)
      .describe('Validation loss every this many steps (and at the end); 0: only at the end.'),
    evalBatches: z
      .int()
      .min(1)
      .max(10_000)
      .default(20)
      .describe('Batches averaged for each validation loss.'),
    checkpointEvery: z
      .int()
      .min(0)
      .default(500)
      .describe('Checkpoint every this many steps (and on pause and stop); 0: only then.'),
    keepCheckpoints: z.int().min(1).default(3).describe('Checkpoints kept per run (the newest).'),
    maxBadSteps: z
      .int()
      .min(1)
      .default(5)
      .describe(
        'Steps in a row with a non-finite loss before rolling back to the last checkpoint.',
      ),
  })
  .strict()

export type TrainConfigInput = z.input<typeof trainConfigSchema>
export type TrainConfig = z.output<typeof trainConfigSchema>

/** Preference training (DPO, SimPO) and reward models: pairs of replies instead of text to predict. */
export const isPreferenceRun = (t: Pick<TrainConfig, 'kind'>) =>
  t.kind === 'dpo' || t.kind === 'simpo' || t.kind === 'reward'

/** A reward model: the network ends in a scalar score instead of next-token logits. */
export const isRewardRun = (t: Pick<TrainConfig, 'kind'>) => t.kind === 'reward'

/** GRPO: the model samples its own replies and learns from their rewards. */
export const isPolicyRun = (t: Pick<TrainConfig, 'kind'>) => t.kind === 'grpo'

/** A GRPO run's settings, the defaults where it gives none. */
export const grpoSettings = (t: Pick<TrainConfig, 'grpo'>): GrpoConfig =>
  t.grpo ?? grpoConfigSchema.parse({})

/**
 * Sequences (rows) in one micro-batch: `batchSize`, but a preference batch holds two per
 * pair and a GRPO batch `group` sampled replies per prompt.
 */
export const sequencesPerBatch = (t: Pick<TrainConfig, 'kind' | 'batchSize' | 'grpo'>) =>
  isPreferenceRun(t)
    ? 2 * t.batchSize
    : isPolicyRun(t)
      ? t.batchSize * grpoSettings(t).group
      : t.batchSize

/** The length of the run's training sequences: `sequenceLength`, else the model's context. */
export const sequenceLengthOf = (t: Pick<TrainConfig, 'sequenceLength'>, contextLength: number) =>
  Math.min(t.sequenceLength ?? contextLength, contextLength)

/**
 * Tokens of one optimizer step at the full sequence length: every row the kind trains on
 * (a preference pair's two, a GRPO prompt's group), every accumulated micro-batch. At most:
 * fine-tuning rows are padded to the sequence length, GRPO's to the longest reply.
 */
export const tokensPerStep = (
  t: Pick<TrainConfig, 'kind' | 'batchSize' | 'grpo' | 'sequenceLength' | 'gradAccumulation'>,
  contextLength: number,
) => sequencesPerBatch(t) * sequenceLengthOf(t, contextLength) * t.gradAccumulation

/**
 * Runs that take one thread unless told otherwise: a preference batch is scored as a whole
 * (pairs share rows), a GRPO batch's advantages as groups, and LoRA replicas would each
 * hold the frozen base too.
 */
export const trainsOnOneThread = (t: Pick<TrainConfig, 'kind' | 'lora'>) =>
  isPreferenceRun(t) || isPolicyRun(t) || t.lora !== null
