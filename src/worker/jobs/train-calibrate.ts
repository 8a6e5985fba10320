import * as tf from '@tensorflow/tfjs-core'
import { UserError } from '../../shared/errors'
import type { JobHandler } from '../context'
import { installKernels } from '../kernels'
import { configError } from '../train/setup'
import { modelConfigSchema } from '../model/config'
import { trainConfigSchema } from '../train/config'
import { resolveThreads } from '../train/run'
import { Trainer } from '../train/trainer'

/**
 * Time a few training steps of exactly this configuration (threads, precision, kernels
 * included) on random tokens: the run form's time estimate. One warm-up step is not counted.
 */
export const trainCalibrate: JobHandler<'train.calibrate'> = async (p, ctx) => {
  const m = modelConfigSchema.safeParse(p.model)
  if (!m.success) throw configError(m.error, 'model')
  const t = trainConfigSchema.safeParse(p.train)
  if (!t.success) throw configError(t.error, 'train')
  const { info } = await ctx.backend()
  installKernels(tf)
  const threads = resolveThreads(t.data, info.name)
  const train = { ...t.data, threads, evalBatches: 1 }
  const V = m.data.vocabSize
  const tokens = Uint16Array.from(
    { length: Math.max(50_000, 4 * m.data.contextLength * train.batchSize) },
    (_, i) => (i * 7919 + 13) % V,
  )
  const before = tf.memory().numBytes
  let trainer: Trainer | null = null
  try {
    trainer = await Trainer.create(
      m.data,
      train,
      { train: tokens, val: tokens, vocabSize: V },
      {
        replicaEntry: ctx.threads.replica,
        backend: info.name === 'tensorflow-gpu' ? 'tensorflow' : info.name,
      },
    )
    ctx.progress({ done: 0, total: p.steps + 1, unit: 'steps', message: 'Warming up' })
    await trainer.trainStep()
    let ms = 0
    let peak = tf.memory().numBytes - before
    for (let i = 0; i < p.steps; i++) {
      ctx.throwIfCancelled()
      const s = await trainer.trainStep()
      ms += s.wallMs
      peak = Math.max(peak, tf.memory().numBytes - before)
      ctx.progress({ done: i + 2, total: p.steps + 1, unit: 'steps', message: 'Timing' })
    }
    const msPerStep = ms / p.steps
    return {
      msPerStep,
      tokensPerSecond: (trainer.tokensPerStep / msPerStep) * 1000,
      threads,
      backend: `${info.name} ${info.version}`,
      peakBytes: peak,
    }
  } catch (err) {
    if (err instanceof UserError) throw err
    throw new UserError(
      'internal',
      `This configuration could not take a step: ${err instanceof Error ? err.message : String(err)}`,
    )
  } finally {
    await trainer?.dispose()
  }
}
