import { UserError } from '../../shared/errors'
import type { JobHandler } from '../context'
import { exportCheckpoint } from '../export/export'
import { importModel } from '../export/import'
import { disposeParams, loadCheckpoint, toParams, type LoadedModel } from '../infer/load'
import type { Store } from '../../store'
import { perplexity } from '../infer/perplexity'
import { withDecoder } from '../infer/decoder'
import { generate } from '../infer/generate'
import { inspectPrompt } from '../infer/inspect'
import { scoreReplies } from '../infer/reward'
import { decoderLogLikelihood, readMcFolder, scoreMc } from '../infer/multiple-choice'
import { installKernels } from '../kernels'
import { encodeDataset } from '../train/encode'
import { loadTokenData } from '../train/token-data'

/** `model.export`: a checkpoint as a Hugging Face model folder or a GGUF file (export/export.ts). */
export const modelExport: JobHandler<'model.export'> = async (p, ctx) => {
  const { tf } = await ctx.backend()
  installKernels(tf)
  const store = ctx.store()
  return exportCheckpoint(
    store,
    { runId: p.runId, checkpointId: p.checkpointId, out: p.out, format: p.format, dtype: p.dtype },
    {
      onProgress: (message) => ctx.log('info', message),
      throwIfCancelled: () => ctx.throwIfCancelled(),
    },
  )
}

/**
 * An evaluation's result stored with the checkpoint it measured: what the eval jobs
 * return beside their figures (the record's id, and which checkpoint at which step).
 */
function recordEval(
  store: Store,
  model: LoadedModel,
  kind: 'perplexity' | 'mc',
  params: unknown,
  result: unknown,
) {
  const evalId = store.evals.add({
    runId: model.run.id,
    checkpointId: model.checkpoint.id,
    step: model.checkpoint.step,
    kind,
    params,
    result,
    createdAt: new Date().toISOString(),
  })
  return {
    evalId,
    runId: model.run.id,
    checkpointId: model.checkpoint.id,
    step: model.checkpoint.step,
  }
}

/**
 * `eval.perplexity`: on the run's validation split, or on every token of another dataset
 * (encoded with the run's tokenizer, reusing an encoding made after the dataset changed).
 * The result is stored with the checkpoint.
 */
export const evalPerplexity: JobHandler<'eval.perplexity'> = async (p, ctx) => {
  const { tf } = await ctx.backend()
  installKernels(tf)
  const store = ctx.store()
  const model = loadCheckpoint(store, p.runId, p.checkpointId)
  let tokens: Uint16Array | Int32Array
  let on: string
  if (p.datasetId === null) {
    if (model.run.tokenSetId === null)
      throw new UserError('conflict', 'This run has no encoded validation split yet.', 'runId')
    tokens = loadTokenData(store, model.run.tokenSetId, model.config.vocabSize).val
    on = 'the run’s validation split'
  } else {
    const dataset = store.datasets.get(p.datasetId)
    if (!dataset)
      throw new UserError('not_found', `There is no dataset ${p.datasetId}.`, 'datasetId')
    const tokenizerId = (model.run.data as { tokenizerId: number }).tokenizerId
    let set = store.tokenSets.latest(p.datasetId, tokenizerId)
    if (!set || set.state !== 'ready') {
      ctx.progress({ done: 0, total: null, unit: 'documents', message: 'Encoding the dataset' })
      const r = encodeDataset(store, model.tokenizer, {
        datasetId: p.datasetId,
        tokenizerId,
        valFraction: 0.1,
        signal: ctx.signal,
        onProgress: (done, total) =>
          ctx.progress({ done, total, unit: 'documents', message: 'Encoding the dataset' }),
      })
      set = store.tokenSets.get(r.tokenSetId)
    }
    const data = loadTokenData(store, set!.id, model.config.vocabSize)
    // Not the run's data: every token counts.
    const all = new Int32Array(data.train.length + data.val.length)
    all.set(data.train)
    all.set(data.val, data.train.length)
    tokens = all
    on = `dataset ${dataset.name}`
  }
  const params = toParams(model.config, model.weights)
  try {
    const r = await perplexity(model.config, params, tokens, {
      maxTokens: p.maxTokens,
      onProgress: (done, total) =>
        ctx.progress({ done, total, unit: 'tokens', message: 'Evaluating' }),
      throwIfCancelled: () => ctx.throwIfCancelled(),
    })
    return { ...r, ...recordEval(store, model, 'perplexity', { ...p, on }, r), on }
  } finally {
    disposeParams(params)
  }
}

/** `eval.mc`: accuracy on MMLU-layout files, per subject and overall; stored per checkpoint. */
export const evalMc: JobHandler<'eval.mc'> = async (p, ctx) => {
  const { tf } = await ctx.backend()
  installKernels(tf)
  const started = performance.now()
  const store = ctx.store()
  const { subjects, problems } = readMcFolder(p.data)
  const limited =
    p.limit === null ? subjects : subjects.map((s) => ({ ...s, test: s.test.slice(0, p.limit!) }))
  const model = loadCheckpoint(store, p.runId, p.checkpointId)
  const r = await withDecoder(model, (decoder) =>
    scoreMc(
      limited,
      p.shots,
      decoderLogLikelihood(decoder, model.tokenizer),
      (text) => model.tokenizer.encode(text).length,
      (done, total) => ctx.progress({ done, total, unit: 'questions', message: 'Scoring' }),
      () => ctx.throwIfCancelled(),
    ),
  )
  return {
    ...r,
    ...recordEval(store, model, 'mc', p, { ...r, problems: problems.length }),
    problems: problems.slice(0, 100),
    wallMs: performance.now() - started,
  }
}

/**
 * `model.generate`: text after a prompt, each piece sent as it is made (`ctx.output`) and
 * the whole text in the result. Cancelling ends it with what was generated so far.
 */
export const modelGenerate: JobHandler<'model.generate'> = async (p, ctx) => {
  const { tf } = await ctx.backend()
  installKernels(tf)
  const model = loadCheckpoint(ctx.store(), p.runId, p.checkpointId)
  let tokens = 0
  const started = performance.now()
  const r = await withDecoder(model, (decoder) =>
    generate(
      decoder,
      model.tokenizer,
      p.prompt,
      p.options,
      (t) => {
        tokens++
        ctx.output(t.text, t.id)
        const seconds = (performance.now() - started) / 1000
        ctx.progress({
          done: tokens,
          total: p.options.maxTokens,
          unit: 'tokens',
          metrics: seconds > 0 ? { tokensPerSecond: tokens / seconds } : {},
        })
      },
      () => ctx.signal.aborted,
      model.chatTemplate,
    ),
  )
  return { ...r, runId: p.runId, checkpointId: model.checkpoint.id, step: model.checkpoint.step }
}

/** `model.score`: replies to one prompt ranked by a reward model, best first. */
export const modelScore: JobHandler<'model.score'> = async (p, ctx) => {
  const { tf } = await ctx.backend()
  installKernels(tf)
  const model = loadCheckpoint(ctx.store(), p.runId, p.checkpointId)
  const ranked = await scoreReplies(model, p.prompt, p.replies, p.chat, {
    onScored: (done) => ctx.progress({ done, total: p.replies.length, unit: 'replies' }),
    throwIfCancelled: () => ctx.throwIfCancelled(),
  })
  return { runId: p.runId, checkpointId: model.checkpoint.id, step: model.checkpoint.step, ranked }
}

/** Prompt tokens the attention view shows at most (the map is n² per head). */
export const INSPECT_MAX_TOKENS = 64

/** `model.inspect`: attention per layer and head, and expert routing, over a prompt. */
export const modelInspect: JobHandler<'model.inspect'> = async (p, ctx) => {
  const { tf } = await ctx.backend()
  installKernels(tf)
  const model = loadCheckpoint(ctx.store(), p.runId, p.checkpointId)
  const r = await withDecoder(model, (decoder) =>
    inspectPrompt(decoder, model.tokenizer, p.prompt, INSPECT_MAX_TOKENS),
  )
  return { ...r, runId: p.runId, checkpointId: model.checkpoint.id, step: model.checkpoint.step }
}

/** `model.import`: a Hugging Face model folder as a run with one checkpoint (export/import.ts). */
export const modelImport: JobHandler<'model.import'> = (p, ctx) => {
  ctx.progress({ done: 0, total: null, unit: 'files', message: 'Reading the model folder' })
  return importModel(ctx.store(), { path: p.path, name: p.name })
}
