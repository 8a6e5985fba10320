import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { trainConfigSchema } from '../../../src/worker/train/config'
import { distillWeights } from '../../../src/worker/train/distill'
import {
  alignHidden,
  hiddenAlignmentLoss,
  type HiddenAlignment,
} from '../../../src/worker/train/hidden-align'
import { setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

const model = (layers: number, width: number) =>
  modelConfigSchema.parse({ vocabSize: 16, contextLength: 8, layers, heads: 2, width })

describe('hidden-state alignment', () => {
  it('pairs each student layer with the teacher layer at the same relative depth', () => {
    const a = alignHidden(model(2, 8), model(6, 16), [0, 1])
    expect(a.pairs).toEqual([
      { student: 0, teacher: 2, projection: 'distill.proj.L0' },
      { student: 1, teacher: 5, projection: 'distill.proj.L1' },
    ])
    // The default is the last layer; equal widths need no projection.
    expect(alignHidden(model(3, 8), model(3, 8), []).pairs).toEqual([
      { student: 2, teacher: 2, projection: null },
    ])
  })

  it('is the mean over pairs of MSE(h·W, target), with gradients into h and W', () => {
    const a: HiddenAlignment = {
      pairs: [{ student: 0, teacher: 0, projection: 'distill.proj.L0' }],
      studentWidth: 2,
      teacherWidth: 3,
    }
    const h = tf.tensor2d([
      [1, 2],
      [0, -1],
    ])
    const W = tf.tensor2d([
      [1, 0, 2],
      [0, 1, -1],
    ])
    const target = tf.tensor2d([
      [1, 1, 1],
      [0, 0, 0],
    ])
    // h·W = [[1, 2, 0], [0, -1, 1]]; squared errors 0,1,1 and 0,1,1: mean 4/6.
    const loss = hiddenAlignmentLoss(a, { 'distill.proj.L0': W }, new Map([[0, h]]), [target])
    expect(loss.dataSync()[0]).toBeCloseTo(4 / 6, 6)
    const [gh, gw] = tf.grads((x: tf.Tensor, w: tf.Tensor) =>
      hiddenAlignmentLoss(a, { 'distill.proj.L0': w }, new Map([[0, x as tf.Tensor2D]]), [target]),
    )([h, W])
    // d/d(hW) = 2(hW − t)/6; dW = hᵀ·that, dh = that·Wᵀ.
    const r = tf.mul(tf.sub(tf.matMul(h, W), target), 2 / 6)
    expect([...gw.dataSync()]).toEqual([...tf.matMul(h, r, true, false).dataSync()])
    expect([...gh.dataSync()]).toEqual([...tf.matMul(r, W, false, true).dataSync()])
  })

  it('stages the loss: hidden states, then logits, then labels with both', () => {
    const c = trainConfigSchema.parse({
      steps: 100,
      distillAlpha: 0.25,
      distillHiddenWeight: 2,
      distillStages: { hidden: 0.1, logits: 0.3 },
    })
    expect(distillWeights(c, 0, true)).toEqual({ ce: 0, kl: 0, hidden: 2, stage: 1 })
    expect(distillWeights(c, 10, true)).toEqual({ ce: 0, kl: 1, hidden: 0, stage: 2 })
    expect(distillWeights(c, 30, true)).toEqual({ ce: 0.25, kl: 0.75, hidden: 2, stage: 3 })
    // Without hidden alignment the first stage is the logits stage.
    expect(distillWeights(c, 0, false)).toEqual({ ce: 0, kl: 1, hidden: 0, stage: 2 })
    // Unstaged: the full loss from the start.
    const flat = { ...c, distillStages: null }
    expect(distillWeights(flat, 0, true)).toEqual({ ce: 0.25, kl: 0.75, hidden: 2, stage: null })
  })
})
