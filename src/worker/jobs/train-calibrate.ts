import * as tf from '@tensorflow/tfjs-core'
import { UserError } from '../../shared/errors'
import type { JobHandler } from '../context'
import { installKernels } from '../kernels'
import { configError } from '../train/setup'
import { modelConfigSchema } from '../model/config'
import { trainConfigSchema } from '../train/config'
import { resolveThreads } from '../train/run'
import { Trainer } from '../train/trainer'
import { calibrationData } from '../train/calibration-data'

/**
 * Time a few training steps of exactly this configuration (threads, precision, kernels
 * and the kind of run included) on random tokens shaped as the kind trains on them
 * (calibration-data.ts): the run form's time estimate. The first steps of a fresh
 * trainer are several times slower than the rest (the JIT, wasm memory growth, kernel
 * set-up), so two warm-up steps are not counted and the median step is reported.
 */
const WARMUP_STEPS = 2
const TIMING_BUDGET_MS = 8000
const MIN_TIMED_STEPS = 3

export const trainCalibrate: JobHandler<'train.calibrate'> = async (p, ctx) => {
  const m = modelConfigSchema.safeParse(p.model)
  if (!m.success) throw configError(m.error, 'model')
  const t = trainConfigSchema.safeParse(p.train)
  if (!t.success) throw configError(t.error, 'train')
  const { info } = await ctx.backend()
  installKernels(tf)
  const threads = resolveThreads(t.data, info.name)
  const shaped = await calibrationData(m.data, { ...t.data, threads, evalBatches: 1 })
  const before = tf.memory().numBytes
  let trainer: Trainer | null = null
  try {
    trainer = await Trainer.create(m.data, shaped.train, shaped.data, {
      replicaEntry: ctx.threads.replica,
      backend: info.name === 'tensorflow-gpu' ? 'tensorflow' : info.name,
      initialWeights: shaped.initialWeights,
    })
    const total = WARMUP_STEPS + p.steps
    ctx.progress({ done: 0, total, unit: 'steps', message: 'Warming up' })
    for (let i = 0; i < WARMUP_STEPS; i++) {
      ctx.throwIfCancelled()
      await trainer.trainStep()
      ctx.progress({ done: i + 1, total, unit: 'steps', message: 'Warming up' })
    }
    const times: number[] = []
    let peak = tf.memory().numBytes - before
    const started = performance.now()
    while (times.length < p.steps) {
      ctx.throwIfCancelled()
      const s = await trainer.trainStep()
      times.push(s.wallMs)
      peak = Math.max(peak, tf.memory().numBytes - before)
      ctx.progress({ done: WARMUP_STEPS + times.length, total, unit: 'steps', message: 'Timing' })
      if (times.length >= MIN_TIMED_STEPS && performance.now() - started > TIMING_BUDGET_MS) break
    }
    const sorted = times.sort((a, b) => a - b)
    const msPerStep = sorted[Math.floor(sorted.length / 2)]
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
