/**
 * GRPO's sampling: how fast a batch of replies is drawn (grpo/rollout.ts's sampleReplies,
 * the key/value-cached batch decoder), in new tokens per second.
 *
 *   npm run bench:rollout                      prints one JSON object on stdout
 *   ROWS=32 PROMPT=16 REPLY=32 FRUGAL_BACKEND=webgpu npm run bench:rollout
 *
 * The model has random weights and no token ends a reply, so every row runs to REPLY
 * tokens: the cost of the longest rollouts a run asks for. The prompts differ in length
 * (PROMPT/2 to PROMPT tokens), as real ones do. The median of RUNS timed runs after one
 * warm-up.
 */
import * as tf from '@tensorflow/tfjs-core'
import { loadBackend } from '../src/worker/backend'
import { sampleReplies } from '../src/worker/grpo/rollout'
import { installKernels } from '../src/worker/kernels'
import { modelConfigSchema } from '../src/worker/model/config'
import { float32Numerics, Transformer, type Params } from '../src/worker/model/model'
import { initialValues, paramSpecs } from '../src/worker/model/params'
import { Rng } from '../src/shared/rng'

const rows = Number(process.env.ROWS ?? 64)
const promptLength = Number(process.env.PROMPT ?? 32)
const replyLength = Number(process.env.REPLY ?? 64)
const runs = Number(process.env.RUNS ?? 3)
const backendName = process.env.FRUGAL_BACKEND ?? 'wasm'

async function main(): Promise<void> {
  const { info } = await loadBackend(backendName)
  installKernels(tf)
  const config = modelConfigSchema.parse({
    vocabSize: 4096,
    contextLength: 256,
    layers: 4,
    heads: 4,
    width: 256,
  })
  const values = initialValues(config, new Rng(1))
  const params: Params = {}
  for (const spec of paramSpecs(config))
    params[spec.name] = tf.tensor(values.get(spec.name)!, spec.shape)
  const model = new Transformer(config)
  const rng = new Rng(7)
  const prompts = Array.from({ length: rows }, (_, r) =>
    Int32Array.from({ length: promptLength / 2 + (r % (promptLength / 2 + 1)) }, () =>
      rng.int(config.vocabSize),
    ),
  )
  const options = {
    maxNewTokens: replyLength,
    temperature: 1,
    ends: new Set<number>(),
    vocab: config.vocabSize,
    rng,
    numerics: float32Numerics,
  }
  const seconds: number[] = []
  let tokens = 0
  for (let run = 0; run <= runs; run++) {
    const started = performance.now()
    const replies = await sampleReplies(model, params, prompts, options)
    if (run > 0) seconds.push((performance.now() - started) / 1000)
    tokens = replies.reduce((n, r) => n + r.ids.length, 0)
  }
  seconds.sort((a, b) => a - b)
  const median = seconds[Math.floor(seconds.length / 2)]
  console.log(
    JSON.stringify(
      {
        backend: info.name,
        model: '4 layers × 256, 4 heads, vocabulary 4096',
        rows,
        promptTokens: `${promptLength / 2}-${promptLength}`,
        newTokensPerRow: replyLength,
        seconds: Number(median.toFixed(2)),
        newTokensPerSecond: Math.round(tokens / median),
        runs: seconds.map((s) => Number(s.toFixed(2))),
      },
      null,
      2,
    ),
  )
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
