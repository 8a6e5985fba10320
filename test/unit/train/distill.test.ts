import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { distillationKl, softTargets } from '../../../src/worker/model/loss'
import { setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

/** The same quantity in float64, straight from the definition. */
function reference(z: number[][], t: number[][], T: number): number {
  const softmax = (row: number[]) => {
    const m = Math.max(...row)
    const e = row.map((v) => Math.exp((v - m) / T))
    const s = e.reduce((a, b) => a + b, 0)
    return e.map((v) => v / s)
  }
  let total = 0
  for (let n = 0; n < z.length; n++) {
    const ps = softmax(z[n])
    const pt = softmax(t[n])
    for (let v = 0; v < ps.length; v++) total += pt[v] * Math.log(pt[v] / ps[v])
  }
  return (T * T * total) / z.length
}

const student = [
  [0.2, -1.3, 2.1, 0.5, 0],
  [1.5, 0.1, -0.4, 0.9, -2],
  [-0.7, 0.3, 0.3, 1.1, 0.6],
]
const teacher = [
  [0.9, -0.2, 1.4, 0.1, -1],
  [2.2, -0.5, 0.2, 0.4, -1.5],
  [-1.1, 0.8, 0.1, 2.0, 0.2],
]

describe('distillation loss', () => {
  it('is T²·KL(teacher ‖ student) at temperature T, zero when they agree', () => {
    for (const T of [1, 2, 4]) {
      const pt = softTargets(tf.tensor2d(teacher), T)
      const kl = distillationKl(tf.tensor2d(student), pt, T).dataSync()[0]
      expect(kl).toBeCloseTo(reference(student, teacher, T), 5)
      const same = distillationKl(tf.tensor2d(teacher), pt, T).dataSync()[0]
      expect(Math.abs(same)).toBeLessThan(1e-5)
    }
  })

  it('has the gradient of its definition (finite differences), and none into the teacher', () => {
    const T = 2
    const pt = softTargets(tf.tensor2d(teacher), T)
    const [gz, gt] = tf.grads((z: tf.Tensor, p: tf.Tensor) =>
      distillationKl(z as tf.Tensor2D, p as tf.Tensor2D, T),
    )([tf.tensor2d(student), pt])
    const g = gz.arraySync() as number[][]
    const h = 1e-3
    for (let n = 0; n < student.length; n++)
      for (let v = 0; v < student[0].length; v++) {
        const up = student.map((r) => [...r])
        const down = student.map((r) => [...r])
        up[n][v] += h
        down[n][v] -= h
        const numeric = (reference(up, teacher, T) - reference(down, teacher, T)) / (2 * h)
        expect(g[n][v]).toBeCloseTo(numeric, 4)
      }
    expect(Math.max(...Array.from(gt.dataSync(), Math.abs))).toBe(0)
  })
})
