import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { EventEnvelope } from '../../../src/shared/events'
import type { JobResults } from '../../../src/shared/jobs'
import { trainConfigSchema } from '../../../src/shared/config/train'
import { Store } from '../../../src/store'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { names, paramSpecs } from '../../../src/worker/model/params'
import { Rng } from '../../../src/shared/rng'
import { checkpointWeights } from '../../../src/worker/train/checkpoint/weights'
import { useApiBackend } from '../../helpers/api'
import { useTempDir } from '../../helpers/temp'
import { trainedProject } from '../../helpers/trained-project'

const tempDir = useTempDir('frugal-models-api-')
const apiBackend = useApiBackend()

describe('models API (checkpoints in worker processes)', () => {
  it(
    'streams generated text, inspects attention and routing, evaluates, exports, and refuses mistakes',
    { timeout: 240_000 },
    async () => {
      const dir = tempDir()
      const { runId } = trainedProject(dir)
      const { backend, call, fails, finished } = apiBackend(dir)
      const outputs: EventEnvelope<'job.output'>[] = []
      backend.ctx.events.subscribe((e) => {
        if (e.topic === 'job.output') outputs.push(e as EventEnvelope<'job.output'>)
      })

      // Generation: the streamed pieces, in order, are the text of the result.
      const options = { maxTokens: 24, temperature: 0.9, seed: 7 }
      const job = await call('models.generate', { runId, prompt: 'Shall I', options })
      const done = await finished(job)
      expect(done.state).toBe('succeeded')
      const result = done.result as JobResults['model.generate']
      expect(result).toMatchObject({ runId, tokens: 24, stop: 'length' })
      // The speed shown is the tokens over time spent inside the job, not some other figure.
      const jobMs = Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)
      expect((result.tokens / result.tokensPerSecond) * 1000).toBeLessThanOrEqual(jobMs + 1)
      const mine = outputs.filter((e) => e.payload.id === job.id).map((e) => e.payload)
      expect(mine.map((o) => o.seq)).toEqual(mine.map((_, i) => i))
      expect(mine.map((o) => o.text).join('')).toBe(result.text)
      // The same seed, the same text.
      const again = await finished(
        await call('models.generate', { runId, prompt: 'Shall I', options }),
      )
      expect((again.result as JobResults['model.generate']).text).toBe(result.text)

      // Inspection over the prompt: causal rows summing to 1; 2 of 4 experts per MoE token.
      const seen = (await finished(await call('models.inspect', { runId, prompt: 'Thou art' })))
        .result as JobResults['model.inspect']
      expect(seen.tokens.join('')).toBe('Thou art')
      expect(seen).toMatchObject({ layers: 3, heads: 2, experts: 4 })
      const row = seen.attention[2][1][3]
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3)
      expect(row.slice(4).every((p) => p === 0)).toBe(true)
      expect(seen.routing.map((r) => r.layer)).toEqual([1, 2])
      expect(seen.routing[0].tokens[0].experts).toHaveLength(2)

      // Perplexity is stored with the checkpoint and listed.
      const ppl = await finished(await call('models.perplexity', { runId }))
      expect(ppl.state).toBe('succeeded')
      const evals = await call('models.evals', { runId })
      expect(evals[0]).toMatchObject({ kind: 'perplexity', runId })
      // The stored figure is the job's, and is the exponential of its loss.
      const measured = ppl.result as JobResults['eval.perplexity']
      expect(evals[0].result.perplexity).toBe(measured.perplexity)
      expect(measured.perplexity).toBeCloseTo(Math.exp(measured.loss), 3)

      // Export into a new folder.
      const out = join(dir, 'exported')
      const exported = await finished(await call('models.export', { runId, out, dtype: 'bf16' }))
      expect(exported.state).toBe('succeeded')
      expect(readdirSync(out)).toEqual(
        expect.arrayContaining(['model.safetensors', 'config.json', 'tokenizer.json', 'README.md']),
      )

      // As one GGUF file for llama.cpp (this MoE run as glm4moe; test/unit/export/gguf.test.ts
      // runs such files in llama.cpp). A second export to the same file is refused.
      const gguf = join(dir, 'model.gguf')
      const g = await finished(
        await call('models.export', { runId, out: gguf, format: 'gguf', dtype: 'q8_0' }),
      )
      expect(g.state).toBe('succeeded')
      expect(g.result).toMatchObject({ format: 'gguf', files: ['model.gguf'], dtype: 'q8_0' })
      expect(readFileSync(gguf).subarray(0, 4).toString('latin1')).toBe('GGUF')
      expect(await fails('models.export', { runId, out: gguf, format: 'gguf' })).toMatchObject({
        code: 'conflict',
        field: 'out',
      })
      expect(
        await fails('models.export', {
          runId,
          out: join(dir, 'x.gguf'),
          format: 'gguf',
          dtype: 'bf16',
        }),
      ).toMatchObject({ code: 'invalid_params', field: 'dtype' })
      expect(
        await fails('models.export', { runId, out: join(dir, 'q8'), dtype: 'q8_0' }),
      ).toMatchObject({ code: 'invalid_params', field: 'dtype' })

      // Mistakes are refused at once, with the field.
      expect(await fails('models.export', { runId, out, dtype: 'fp32' })).toMatchObject({
        code: 'conflict',
        field: 'out',
      })
      expect(await fails('models.export', { runId, out: 'relative/dir' })).toMatchObject({
        code: 'invalid_params',
        field: 'out',
      })
      writeFileSync(join(dir, 'a-file'), 'x')
      expect(await fails('models.export', { runId, out: join(dir, 'a-file') })).toMatchObject({
        code: 'conflict',
      })
      expect(
        await fails('models.export', { runId, out: join(dir, 'missing', 'deeper') }),
      ).toMatchObject({ code: 'not_found', field: 'out' })
      expect(
        await fails('models.generate', { runId, checkpointId: 9999, prompt: 'x' }),
      ).toMatchObject({ code: 'not_found', field: 'checkpointId' })
      expect(await fails('models.generate', { runId: 'nope', prompt: 'x' })).toMatchObject({
        code: 'not_found',
        field: 'runId',
      })
      expect(await fails('models.generate', { runId, prompt: '' })).toMatchObject({
        code: 'invalid_params',
      })
      expect(await fails('models.mc', { runId, data: join(dir, 'no-such') })).toMatchObject({
        code: 'not_found',
        field: 'data',
      })
      mkdirSync(join(dir, 'empty-mc'))
      const mc = await finished(await call('models.mc', { runId, data: join(dir, 'empty-mc') }))
      expect(mc.state).toBe('failed') // no CSV files: the job says so
      expect(mc.error?.message).toMatch(/csv/i)
    },
  )
})

describe('reward-model scoring through the API', () => {
  it(
    'ranks replies best first, keeps each reply’s place, and refuses a run that is not a reward model',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir()
      const { db, runId } = trainedProject(dir)
      // A reward model: the trained run's weights with a scalar head, as a reward run saves them.
      const store = Store.open(db)
      const base = store.runs.get(runId)!
      const checkpoint = store.checkpoints.list(runId).at(-1)!
      const weights = checkpointWeights(store, checkpoint.id)
      const config = modelConfigSchema.parse(base.modelConfig)
      const head = new Rng(3).normalArray(config.width, 0.5)
      const now = new Date().toISOString()
      store.write(() => {
        store.runs.create(
          {
            id: 'rm',
            name: 'judge',
            modelConfig: config,
            trainConfig: trainConfigSchema.parse({ kind: 'reward' }),
            data: { ...base.data },
            tokenSetId: null,
            parentRunId: runId,
            parentCheckpointId: checkpoint.id,
          },
          now,
        )
        store.checkpoints.write({
          runId: 'rm',
          step: 1,
          reason: 'final',
          state: {},
          tensors: new Map<string, { shape: number[]; values: Float32Array }>([
            ...paramSpecs(config).map(
              (s) =>
                [`param/${s.name}`, { shape: [...s.shape], values: weights.get(s.name)! }] as [
                  string,
                  { shape: number[]; values: Float32Array },
                ],
            ),
            [`param/${names.score}`, { shape: [config.width, 1], values: head }],
          ]),
          trainLoss: null,
          valLoss: null,
          createdAt: now,
          fullEvery: 1,
        })
      })
      store.close()

      const { call, fails, finished } = apiBackend(dir)
      const replies = ['Thou art more lovely.', 'summer', 'Shall I compare thee?']
      const job = await call('models.score', { runId: 'rm', prompt: 'Shall I', replies })
      const done = await finished(job)
      expect(done.state).toBe('succeeded')
      const { ranked, checkpointId } = done.result as JobResults['model.score']
      expect(checkpointId).toBeGreaterThan(0)
      expect(ranked.map((r) => r.index).sort()).toEqual([0, 1, 2])
      for (const r of ranked) expect(r.reply).toBe(replies[r.index])
      const scores = ranked.map((r) => r.score)
      expect(scores).toEqual([...scores].sort((a, b) => b - a))
      expect(new Set(scores).size).toBe(3)
      // The same replies in another order get the same scores.
      const again = (
        await finished(
          await call('models.score', {
            runId: 'rm',
            prompt: 'Shall I',
            replies: replies.toReversed(),
          }),
        )
      ).result as JobResults['model.score']
      expect(again.ranked.map((r) => [r.reply, r.score])).toEqual(
        ranked.map((r) => [r.reply, r.score]),
      )

      const refused = await fails('models.score', { runId, prompt: 'x', replies: ['a'] })
      expect(refused).toMatchObject({ code: 'invalid_params', field: 'runId' })
      expect(refused.message).toMatch(/not a reward model/)
      expect(await fails('models.score', { runId: 'rm', prompt: 'x', replies: [] })).toMatchObject({
        code: 'invalid_params',
      })
    },
  )
})
