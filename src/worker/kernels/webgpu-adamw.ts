import * as tf from '@tensorflow/tfjs-core'
import {
  recordOwnDispatch,
  type OwnPipelineBackend,
  type Uniform,
  f32,
  i32,
} from './webgpu-program'

/**
 * AdamW's update on webgpu: one shader launch updates several parameters, each with its
 * two moments, in place. Composed of tfjs ops the same update is about fifteen launches
 * and as many new buffers per parameter (a third of all the launches of a small model's
 * step, profiled on llvmpipe); through tfjs's programs, which write one output each, it
 * was three launches per parameter (the first moment, the second, the parameter).
 *
 * A launch binds four storage buffers per parameter (parameter, moments, gradient), so it
 * takes as many parameters as the device's storage buffers per shader stage allow (four
 * on llvmpipe's 16; two at WebGPU's default of 8). Its threads walk the parameters'
 * elements as one run (a grid-stride loop), so one large tensor and several small ones
 * share the work evenly.
 *
 * Writing in place is only sound when nothing else holds the data (the backend's
 * reference count is 1: parameters and moments between steps), and a copy the backend
 * cached on the host from an earlier read must be dropped after the write.
 */

/** The step's constants: c1, c2 are the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ. */
export interface AdamWStep {
  beta1: number
  beta2: number
  c1: number
  c2: number
  eps: number
  lr: number
  /** Multiplies every gradient first (unscaling and clipping). */
  scale: number
}

/** One parameter's update: its tensor, moments and gradient, and its decay. */
export interface AdamWUpdate {
  p: tf.Tensor
  m: tf.Tensor
  v: tf.Tensor
  g: tf.Tensor
  /** λ of decoupled weight decay for this parameter (0: none). */
  decay: number
}

const WORKGROUP = 128
/** Workgroups of a launch at most: the grid-stride loop covers the rest. */
const MAX_WORKGROUPS = 4096

/** WGSL updating `groups` parameters, bindings 4k..4k+3 (p, m, v, g), uniforms last. */
function shader(groups: number): string {
  const bind = (k: number, name: string, i: number, access: string) =>
    `@group(0) @binding(${4 * k + i}) var<storage, ${access}> ${name}${k} : array<f32>;`
  const ks = Array.from({ length: groups }, (_, k) => k)
  return `
    struct Uniforms {
      beta1 : f32, beta2 : f32, c1 : f32, c2 : f32, eps : f32, lr : f32, scale : f32, total : i32,
      ${ks.map((k) => `end${k} : i32, decay${k} : f32,`).join(' ')}
    };
    ${ks
      .map((k) =>
        [
          bind(k, 'P', 0, 'read_write'),
          bind(k, 'M', 1, 'read_write'),
          bind(k, 'V', 2, 'read_write'),
          bind(k, 'G', 3, 'read'),
        ].join('\n'),
      )
      .join('\n')}
    @group(0) @binding(${4 * groups}) var<uniform> u : Uniforms;

    fn update(p : f32, m : ptr<function, f32>, v : ptr<function, f32>, g0 : f32, decay : f32) -> f32 {
      let g = g0 * u.scale;
      *m = u.beta1 * *m + (1.0 - u.beta1) * g;
      *v = u.beta2 * *v + (1.0 - u.beta2) * g * g;
      let step = *m / u.c1 / (sqrt(*v / u.c2) + u.eps);
      return p - u.lr * (step + decay * p);
    }

    @compute @workgroup_size(${WORKGROUP})
    fn main(@builtin(global_invocation_id) id : vec3<u32>,
            @builtin(num_workgroups) count : vec3<u32>) {
      let stride = i32(count.x) * ${WORKGROUP};
      for (var i = i32(id.x); i < u.total; i = i + stride) {
        ${ks
          .map(
            (k) => `${k === 0 ? '' : 'else '}if (i < u.end${k}) {
          let j = i${k === 0 ? '' : ` - u.end${k - 1}`};
          var m = M${k}[j];
          var v = V${k}[j];
          P${k}[j] = update(P${k}[j], &m, &v, G${k}[j], u.decay${k});
          M${k}[j] = m;
          V${k}[j] = v;
        }`,
          )
          .join(' ')}
      }
    }`
}

/** The webgpu backend when it is the active one, else null. */
function webgpu(): OwnPipelineBackend | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as OwnPipelineBackend) : null
}

/**
 * Apply AdamW to each update's p, m and v in place, from its gradient, as optimizer.ts
 * does. Returns the updates it left untouched (all of them on another backend; those
 * whose data another tensor shares) for the composed ops.
 */
export function adamwInPlace(updates: AdamWUpdate[], s: AdamWStep): AdamWUpdate[] {
  const backend = webgpu()
  if (!backend) return updates
  const owned = (u: AdamWUpdate) =>
    u.p.size > 0 && [u.p, u.m, u.v].every((t) => backend.refCount(t.dataId) === 1)
  const mine = updates.filter(owned)
  const left = updates.filter((u) => !mine.includes(u))
  const perLaunch = Math.max(
    1,
    Math.floor(backend.device.limits.maxStorageBuffersPerShaderStage / 4),
  )
  for (let at = 0; at < mine.length; at += perLaunch) {
    const group = mine.slice(at, at + perLaunch)
    let end = 0
    const ends: Uniform[] = []
    for (const u of group) {
      end += u.p.size
      ends.push(i32(end), f32(u.decay))
    }
    recordOwnDispatch(backend, {
      key: `frugal_adamw_${group.length}`,
      code: () => shader(group.length),
      tensors: group.flatMap((u) => [u.p, u.m, u.v, u.g]),
      uniforms: [
        ...[s.beta1, s.beta2, s.c1, s.c2, s.eps, s.lr, s.scale].map(f32),
        i32(end),
        ...ends,
      ],
      workgroups: Math.min(MAX_WORKGROUPS, Math.ceil(end / WORKGROUP)),
    })
    // A read before this step left the old values cached on the host: they are stale now.
    for (const u of group)
      for (const t of [u.p, u.m, u.v]) backend.tensorMap.get(t.dataId).values = null
  }
  return left
}
