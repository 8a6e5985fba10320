import { z } from 'zod'

/** Sampling settings, with the defaults the playground starts from. */
export const generateOptionsSchema = z
  .object({
    maxTokens: z.int().min(1).max(4096).default(200).describe('Tokens to generate at most.'),
    temperature: z
      .number()
      .min(0)
      .max(5)
      .default(0.8)
      .describe('Softmax temperature; 0 always takes the most likely token (greedy).'),
    topK: z.int().min(0).default(0).describe('Sample among the k most likely tokens; 0: all.'),
    topP: z
      .number()
      .gt(0)
      .max(1)
      .default(1)
      .describe('Sample within the smallest set whose probability passes p; 1: all.'),
    stop: z
      .array(z.string().min(1).max(200))
      .max(8)
      .default([])
      .describe('Stop when the output ends with one of these (not included).'),
    seed: z.int().min(0).default(0).describe('Seed of the sampler: the same seed, the same text.'),
    chat: z
      .boolean()
      .default(false)
      .describe(
        "Send the prompt as a user's message through the model's chat template and generate the assistant's reply, which ends at the template's end-of-turn token.",
      ),
  })
  .strict()
export type GenerateOptions = z.output<typeof generateOptionsSchema>

/** How one generation ended, and how fast it went. */
export interface GenerateResult {
  text: string
  tokens: number
  promptTokens: number
  /** Why it ended. */
  stop: 'length' | 'eos' | 'stop-sequence' | 'cancelled'
  /** Generated tokens per second, prompt processing excluded. */
  tokensPerSecond: number
  promptMs: number
}

/** A reply as a reward model scored it. */
export interface ScoredReply {
  reply: string
  /** Its place among the replies asked about. */
  index: number
  /** The reward model's score: only differences between replies to one prompt mean anything. */
  score: number
  /** Tokens of the prompt and reply laid out as the reward model trained on them. */
  tokens: number
}

/** What the attention and routing views show about one forward pass over a prompt. */
export interface PromptInspection {
  runId: string
  checkpointId: number
  step: number
  /** The prompt's tokens as text (a token inside a multi-byte character shows as "�"). */
  tokens: string[]
  layers: number
  heads: number
  /** Per layer, per head: attention probabilities (n, n), row = query, rounded to 4 digits. */
  attention: number[][][][]
  /** Routed experts per MoE layer. */
  experts: number
  routing: { layer: number; tokens: { experts: number[]; weights: number[] }[] }[]
}
