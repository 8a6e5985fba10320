import * as tf from '@tensorflow/tfjs-core'
import type { WebGpuBackendLike, WebGpuProgram } from './webgpu-program'

/**
 * AdamW's update of one parameter on webgpu as three shader launches that write in place:
 * the first moment, the second, then the parameter. Composed of tfjs ops the same update
 * is about fifteen launches and as many new buffers per parameter (a third of all the
 * launches of a small model's step, profiled on llvmpipe).
 *
 * tfjs programs bind their inputs read-only and write one output buffer; handing
 * runWebGPUProgram an existing tensor as that output, and reading the old value from the
 * output binding (`result[index]`), updates the tensor in place. That is only sound when
 * nothing else holds the data (the backend's reference count is 1: parameters and
 * moments between steps), and a copy the backend cached on the host from an earlier read
 * must be dropped after the write.
 */

/** The step's constants: c1, c2 are the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ. */
export interface AdamWStep {
  beta1: number
  beta2: number
  c1: number
  c2: number
  eps: number
  lr: number
  /** λ of decoupled weight decay for this parameter (0: none). */
  decay: number
  /** Multiplies the gradient first (unscaling and clipping). */
  scale: number
}

const WORKGROUP = 128

/** A flat elementwise program over `size` elements whose output is read and rewritten. */
function inPlaceProgram(
  key: string,
  inputs: string[],
  uniforms: string,
  body: string,
  size: number,
): WebGpuProgram {
  return {
    outputShape: [size],
    shaderKey: key,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(size / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    variableNames: inputs,
    uniforms,
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  }
}

/** The webgpu backend when it is the active one, else null. */
function webgpu(): WebGpuBackendLike | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as WebGpuBackendLike) : null
}

/**
 * Update p, m and v in place from gradient g, as AdamW does (optimizer.ts). False, with
 * nothing changed, where it cannot: another backend, or data shared with another tensor.
 */
export function adamwInPlace(
  p: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  s: AdamWStep,
): boolean {
  const backend = webgpu()
  if (!backend) return false
  if ([p, m, v].some((t) => backend.refCount(t.dataId) !== 1)) return false
  const n = p.size
  const flat = (t: tf.Tensor): tf.TensorInfo => ({ dataId: t.dataId, shape: [n], dtype: 'float32' })
  const f32 = (...data: number[]) => data.map((x) => ({ type: 'float32' as const, data: [x] }))
  const moment = (key: string, square: boolean) =>
    inPlaceProgram(
      key,
      ['G'],
      'beta : f32, scale : f32,',
      `let g = G[index] * uniforms.scale;
       result[index] = uniforms.beta * result[index] + (1.0 - uniforms.beta) * ${square ? 'g * g' : 'g'};`,
      n,
    )
  backend.runWebGPUProgram(
    moment('adamw_m', false),
    [flat(g)],
    'float32',
    f32(s.beta1, s.scale),
    flat(m),
  )
  backend.runWebGPUProgram(
    moment('adamw_v', true),
    [flat(g)],
    'float32',
    f32(s.beta2, s.scale),
    flat(v),
  )
  const param = inPlaceProgram(
    'adamw_p',
    ['M', 'V'],
    'c1 : f32, c2 : f32, eps : f32, lr : f32, decay : f32,',
    `let p = result[index];
     let update = M[index] / uniforms.c1 / (sqrt(V[index] / uniforms.c2) + uniforms.eps);
     result[index] = p - uniforms.lr * (update + uniforms.decay * p);`,
    n,
  )
  backend.runWebGPUProgram(
    param,
    [flat(m), flat(v)],
    'float32',
    f32(s.c1, s.c2, s.eps, s.lr, s.decay),
    flat(p),
  )
  // A read before this step left the old values cached on the host: they are stale now.
  for (const t of [p, m, v]) backend.tensorMap.get(t.dataId).values = null
  return true
}
