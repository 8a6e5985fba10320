import * as tf from '@tensorflow/tfjs-core'
import type { ModelConfig } from '../model/config'
import type { Params } from '../model/model'
import { paramSpecs, type ParamSpec } from '../model/params'
import type { Rng } from '../../shared/rng'

/**
 * Hidden-state alignment for distillation: the output of chosen student blocks is pulled
 * towards the output of the teacher's matching blocks, MSE(h_s·W, h_t), through a learned
 * projection W (d_s × d_t) when the widths differ (none when they match). Teacher block
 * for student block l of L_s: round((l + 1)·L_t / L_s) − 1, the same relative depth.
 */
export interface AlignedPair {
  student: number
  teacher: number
  /** The projection's parameter name, or null when the widths are equal. */
  projection: string | null
}

export interface HiddenAlignment {
  pairs: AlignedPair[]
  studentWidth: number
  teacherWidth: number
}

export const projectionName = (studentLayer: number) => `distill.proj.L${studentLayer}`

/** The pairs for these student layers (default: the last), checked against both models. */
export function alignHidden(
  student: ModelConfig,
  teacher: ModelConfig,
  layers: readonly number[] | null,
): HiddenAlignment {
  const chosen = layers?.length ? layers : [student.layers - 1]
  for (const l of chosen)
    if (l >= student.layers)
      throw new Error(
        `distillHiddenLayers: the student has ${student.layers} layers (0-${student.layers - 1}), so it has no layer ${l}.`,
      )
  const project = student.width !== teacher.width
  return {
    pairs: [...new Set(chosen)]
      .sort((a, b) => a - b)
      .map((l) => ({
        student: l,
        teacher: Math.max(0, Math.round(((l + 1) * teacher.layers) / student.layers) - 1),
        projection: project ? projectionName(l) : null,
      })),
    studentWidth: student.width,
    teacherWidth: teacher.width,
  }
}

/** The projections as parameters of the run (trained with the student, never exported). */
export function projectionSpecs(a: HiddenAlignment | null): ParamSpec[] {
  if (!a) return []
  return a.pairs
    .filter((p) => p.projection)
    .map((p) => ({
      name: p.projection!,
      shape: [a.studentWidth, a.teacherWidth],
      init: 'normal',
      decay: true,
      trainable: true,
    }))
}

/** Every parameter a run trains: the model's, then the alignment's projections. */
export function trainingSpecs(model: ModelConfig, a: HiddenAlignment | null): ParamSpec[] {
  return [...paramSpecs(model), ...projectionSpecs(a)]
}

/** Initial projections: N(0, 1/d_s), so h·W starts at the scale of h. */
export function initialProjections(a: HiddenAlignment | null, rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  for (const spec of projectionSpecs(a))
    out.set(spec.name, rng.normalArray(spec.shape[0] * spec.shape[1], 1 / Math.sqrt(spec.shape[0])))
  return out
}

/**
 * Mean over the pairs of MSE(h_s·W, h_t), each the mean over rows and features.
 * `student` and `teacher` hold each pair's hidden states, (N, d_s) and (N, d_t).
 */
export function hiddenAlignmentLoss(
  a: HiddenAlignment,
  P: Params,
  student: ReadonlyMap<number, tf.Tensor2D>,
  teacher: readonly tf.Tensor2D[],
): tf.Scalar {
  return tf.tidy(() => {
    const terms = a.pairs.map((p, i) => pairLoss(p, P, student.get(p.student)!, teacher[i]))
    return tf.div<tf.Scalar>(tf.addN(terms), a.pairs.length)
  })
}

/** MSE of one pair: the student's states (N, d_s), projected, against the teacher's (N, d_t). */
export function pairLoss(
  p: AlignedPair,
  P: Params,
  h: tf.Tensor2D,
  target: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const projected = p.projection ? tf.matMul(h, P[p.projection]) : h // (N, d_t)
    return tf.mean<tf.Scalar>(tf.squaredDifference(projected, target))
  })
}
