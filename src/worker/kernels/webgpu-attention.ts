import type * as tfc from '@tensorflow/tfjs-core'
import {
  i32,
  unitIndexSnippet,
  workgroupGrid,
  type WebGpuBackendLike,
  type WebGpuProgram,
} from './webgpu-program'

/**
 * Causal attention on webgpu in the manner of FlashAttention (Dao et al. 2022): no
 * (B, H, T, L) matrix of scores or probabilities ever exists. One launch forward, four
 * backward, where the composed tfjs ops take about 15 and 30 and keep two T×L matrices
 * per head for the backward.
 *
 * Layouts are the projections' own, so nothing is transposed or repeated for grouped-query
 * attention first:
 *   q (B·T, H·hs), k and v (B·L, Hkv·hs), mask (T, L) or (B, 1, T, L) additive,
 *   out and dq (B·T, H·hs), dk and dv (B·L, Hkv·hs), stats (B·H·T, 2)
 * Query i sits at position L − T + i (after a key/value cache when decoding) and sees keys
 * up to its position: tiles past the last query's position are never read. Query head h
 * reads key/value head ⌊h / (H/Hkv)⌋. The softmax scale is already in q.
 *
 *   FrugalAttention           q, k, v, mask            ->  out = softmax(q·kᵀ + mask)·v
 *   FrugalAttentionStats      q, k, mask, out, dout    ->  per query: log-sum-exp of its
 *                                                          scores, and D = dout·out
 *   FrugalAttentionGradQ      q, k, v, mask, dout, stats  ->  dq = Σ_j p(dp − D)·k_j
 *   FrugalAttentionGradK      q, k, v, mask, dout, stats  ->  dk = Σ_i p(dp − D)·q_i
 *   FrugalAttentionGradV      q, k, mask, dout, stats     ->  dv = Σ_i p·dout_i
 * with p = exp(q·k + mask − lse) recomputed tile by tile and dp = dout·v.
 *
 * A workgroup is QT threads: QT queries (forward, stats, dq) or QT keys (dk, dv) of one
 * head of one sequence, each thread holding its row in registers; the other side streams
 * through workgroup memory in tiles of KT rows, with an online softmax forward.
 */
export const ATTENTION = 'FrugalAttention'
export const ATTENTION_STATS = 'FrugalAttentionStats'
export const ATTENTION_GRAD_Q = 'FrugalAttentionGradQ'
export const ATTENTION_GRAD_K = 'FrugalAttentionGradK'
export const ATTENTION_GRAD_V = 'FrugalAttentionGradV'

/** Threads per workgroup: rows (queries or keys) handled together. */
const QT = 64

export interface AttentionAttrs {
  B: number
  heads: number
  kvHeads: number
  headWidth: number
  /**
   * The mask's sliding window (0: none) and global tokens, where the mask is the plain
   * (T, L) one of `attentionMask`: tiles wholly outside every query's window are skipped.
   * The mask still decides what is visible; these only say what need not be read.
   */
  window: number
  globalTokens: number
}

type Backend = WebGpuBackendLike
type KernelArgs = { inputs: tfc.NamedTensorInfoMap; backend: unknown; attrs?: tfc.NamedAttrMap }

/** Rows per streamed tile: as many (a power of two, at most 32) as workgroup memory holds. */
function tileRows(hs: number, limitBytes: number): number {
  let kt = 32
  while (kt > 1 && kt * (2 * hs + 2) * 4 > limitBytes) kt /= 2
  return kt
}

/** The problem's sizes, from the inputs, as uniforms every program declares. */
function sizes(q: tfc.TensorInfo, k: tfc.TensorInfo, mask: tfc.TensorInfo, a: AttentionAttrs) {
  const T = q.shape[0] / a.B
  const L = k.shape[0] / a.B
  return {
    T,
    L,
    declaration:
      'B : i32, T : i32, L : i32, H : i32, Hkv : i32, group : i32, offset : i32, maskPerRow : i32, window : i32, globalTokens : i32,',
    values: [
      a.B,
      T,
      L,
      a.heads,
      a.kvHeads,
      a.heads / a.kvHeads,
      L - T,
      mask.shape.length === 4 ? 1 : 0,
      // A per-row mask (packed sequences) counts positions per segment: no skipping.
      mask.shape.length === 4 ? 0 : a.window,
      a.globalTokens,
    ].map(i32),
  }
}

/** WGSL shared by every program: indexing helpers over the layouts above. */
const indexing = (hs: number) => `
      fn qAt(b : i32, i : i32, h : i32) -> i32 {
        return (b * uniforms.T + i) * uniforms.H * ${hs} + h * ${hs};
      }
      fn kAt(b : i32, j : i32, g : i32) -> i32 {
        return (b * uniforms.L + j) * uniforms.Hkv * ${hs} + g * ${hs};
      }
      fn maskAt(b : i32, i : i32, j : i32) -> f32 {
        return MASK[uniforms.maskPerRow * b * uniforms.T * uniforms.L + i * uniforms.L + j];
      }
      fn statsAt(b : i32, h : i32, i : i32) -> i32 {
        return ((b * uniforms.H + h) * uniforms.T + i) * 2;
      }`

function program(
  key: string,
  names: string[],
  outputShape: number[],
  units: number,
  backend: Backend,
  declaration: string,
  code: string,
): WebGpuProgram {
  return {
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: workgroupGrid(units, backend.device.limits.maxComputeWorkgroupsPerDimension),
    workgroupSize: [QT, 1, 1],
    variableNames: names,
    uniforms: declaration,
    getUserCode: () => code,
  }
}

interface Side {
  hs: number
  kt: number
  /** WGSL after the thread's row is in registers, before the tiles stream. */
  before: string
  /** WGSL for each pair a row may attend, with `s` its score (mask included). */
  each: string
  /** WGSL after the last tile (write the result). */
  after: string
}

/** WGSL: four consecutive floats of binding `name` from `at`, as a vec4. */
const load4 = (name: string, at: string) =>
  `vec4<f32>(${name}[${at}], ${name}[${at} + 1], ${name}[${at} + 2], ${name}[${at} + 3])`

/** WGSL: a row of hs/4 vec4 registers `from`, scaled by `scale`, written to result at `at`. */
const store = (hs: number, at: string, from: string, scale = '') => `
          for (var d = 0; d < ${hs / 4}; d = d + 1) {
            let value = ${from}[d]${scale};
            for (var c = 0; c < 4; c = c + 1) {
              result[${at} + 4 * d + c] = value[c];
            }
          }`

/**
 * WGSL: the query side. A workgroup holds QT queries (`i`) of head h of sequence b,
 * `live` for real ones, `q` in registers (hs/4 vec4s), and streams keys (`kTile`) and
 * values (`vTile`, with `withValues`) up to the last query's position; `each` runs for
 * each key j the query may see, `jj` its row in the tile (row r's vec4s from r·hs/4).
 */
function querySide(o: Side, withValues: boolean): string {
  const { kt } = o
  const n = o.hs / 4
  return `
      var<workgroup> kTile : array<vec4<f32>, ${kt * n}>;
      var<workgroup> vTile : array<vec4<f32>, ${kt * n}>;
      var<workgroup> keyCount : i32;
      var<workgroup> windowStart : i32;
      ${unitIndexSnippet}
      fn main(index : i32) {
        let unit = unitIndex();
        let tiles = (uniforms.T + ${QT - 1}) / ${QT};
        let b = unit / (uniforms.H * tiles);
        let h = (unit / tiles) % uniforms.H;
        let i = (unit % tiles) * ${QT} + i32(localId.x);
        let valid = b < uniforms.B;
        let live = valid && i < uniforms.T;
        let g = h / uniforms.group;
        let pos = uniforms.offset + i;
        var q : array<vec4<f32>, ${n}>;
        if (live) {
          let at = qAt(b, i, h);
          for (var d = 0; d < ${n}; d = d + 1) {
            q[d] = ${load4('Q', 'at + 4 * d')};
          }
        }
        ${o.before}
        if (localId.x == 0u) {
          let lastQuery = min((unit % tiles + 1) * ${QT}, uniforms.T) - 1;
          keyCount = select(0, min(uniforms.L, uniforms.offset + lastQuery + 1), valid);
          // With a window, keys before the first query's window (and after the global ones)
          // are hidden from every query here.
          windowStart = select(0, uniforms.offset + (unit % tiles) * ${QT} - uniforms.window + 1, uniforms.window > 0);
        }
        let keys = workgroupUniformLoad(&keyCount);
        let hiddenBelow = workgroupUniformLoad(&windowStart);
        for (var start = 0; start < keys; start = start + ${kt}) {
          if (start >= uniforms.globalTokens && start + ${kt} <= hiddenBelow) {
            continue;
          }
          for (var e = i32(localId.x); e < ${kt * n}; e = e + ${QT}) {
            let j = start + e / ${n};
            var kv = vec4<f32>();
            var vv = vec4<f32>();
            if (j < keys) {
              let at = kAt(b, j, g) + 4 * (e % ${n});
              kv = ${load4('K', 'at')};
              ${withValues ? `vv = ${load4('V', 'at')};` : ''}
            }
            kTile[e] = kv;
            vTile[e] = vv;
          }
          workgroupBarrier();
          if (live) {
            let end = min(${kt}, pos + 1 - start);
            for (var jj = 0; jj < end; jj = jj + 1) {
              let j = start + jj;
              var s = maskAt(b, i, j);
              for (var d = 0; d < ${n}; d = d + 1) {
                s = s + dot(q[d], kTile[jj * ${n} + d]);
              }
              ${o.each}
            }
          }
          workgroupBarrier();
        }
        ${o.after}
      }`
}

/**
 * WGSL: the key side. A workgroup holds QT keys (`j`) of key/value head g of sequence b,
 * `live` for real ones, `k` (and `v`, with `withValues`) in registers, and streams, for
 * each query head of g's group, the queries that may see a key of the block (`qTile`),
 * their output gradients (`dTile`) and stats (`sTile`: lse, D); `each` runs for each query
 * i that may see key j, `ii` its row in the tile, with `p` its probability.
 */
function keySide(o: Side, withValues: boolean): string {
  const { kt } = o
  const n = o.hs / 4
  return `
      var<workgroup> qTile : array<vec4<f32>, ${kt * n}>;
      var<workgroup> dTile : array<vec4<f32>, ${kt * n}>;
      var<workgroup> sTile : array<f32, ${kt * 2}>;
      var<workgroup> firstQuery : i32;
      var<workgroup> queryEnd : i32;
      ${unitIndexSnippet}
      fn main(index : i32) {
        let unit = unitIndex();
        let tiles = (uniforms.L + ${QT - 1}) / ${QT};
        let b = unit / (uniforms.Hkv * tiles);
        let g = (unit / tiles) % uniforms.Hkv;
        let j = (unit % tiles) * ${QT} + i32(localId.x);
        let valid = b < uniforms.B;
        let live = valid && j < uniforms.L;
        var k : array<vec4<f32>, ${n}>;
        var v : array<vec4<f32>, ${n}>;
        if (live) {
          let at = kAt(b, j, g);
          for (var d = 0; d < ${n}; d = d + 1) {
            k[d] = ${load4('K', 'at + 4 * d')};
            ${withValues ? `v[d] = ${load4('V', 'at + 4 * d')};` : ''}
          }
        }
        ${o.before}
        if (localId.x == 0u) {
          // The first query at or after the block's first key.
          firstQuery = select(uniforms.T, max(0, (unit % tiles) * ${QT} - uniforms.offset), valid);
          // With a window and no global key in the block, queries past the last key's window
          // see none of it.
          let lastKey = min((unit % tiles + 1) * ${QT}, uniforms.L) - 1;
          let windowed = uniforms.window > 0 && (unit % tiles) * ${QT} >= uniforms.globalTokens;
          queryEnd = select(
            uniforms.T,
            clamp(lastKey + uniforms.window - uniforms.offset, 0, uniforms.T),
            windowed,
          );
        }
        let first = workgroupUniformLoad(&firstQuery);
        let end = workgroupUniformLoad(&queryEnd);
        for (var hh = 0; hh < uniforms.group; hh = hh + 1) {
          let h = g * uniforms.group + hh;
          for (var start = first; start < end; start = start + ${kt}) {
            for (var e = i32(localId.x); e < ${kt * n}; e = e + ${QT}) {
              let i = start + e / ${n};
              var qv = vec4<f32>();
              var dv = vec4<f32>();
              if (i < uniforms.T && valid) {
                let at = qAt(b, i, h) + 4 * (e % ${n});
                qv = ${load4('Q', 'at')};
                dv = ${load4('DOUT', 'at')};
              }
              qTile[e] = qv;
              dTile[e] = dv;
            }
            for (var e = i32(localId.x); e < ${kt * 2}; e = e + ${QT}) {
              let i = start + e / 2;
              var sv = 0.0;
              if (i < uniforms.T && valid) {
                sv = STATS[statsAt(b, h, i) + e % 2];
              }
              sTile[e] = sv;
            }
            workgroupBarrier();
            if (live) {
              for (var ii = 0; ii < ${kt}; ii = ii + 1) {
                let i = start + ii;
                if (i < uniforms.T && uniforms.offset + i >= j) {
                  var s = maskAt(b, i, j);
                  for (var d = 0; d < ${n}; d = d + 1) {
                    s = s + dot(qTile[ii * ${n} + d], k[d]);
                  }
                  let p = exp(s - sTile[ii * 2]);
                  ${o.each}
                }
              }
            }
            workgroupBarrier();
          }
        }
        ${o.after}
      }`
}

function setup(args: KernelArgs) {
  const gpu = args.backend as Backend
  const a = args.attrs as unknown as AttentionAttrs
  const { q, k, mask } = args.inputs as Record<string, tfc.TensorInfo>
  const hs = a.headWidth
  const kt = tileRows(hs, gpu.device.limits.maxComputeWorkgroupStorageSize)
  const size = sizes(q, k, mask, a)
  const run = (
    key: string,
    names: string[],
    outputShape: number[],
    side: 'query' | 'key',
    code: string,
  ): tfc.TensorInfo => {
    const units =
      side === 'query'
        ? a.B * a.heads * Math.ceil(size.T / QT)
        : a.B * a.kvHeads * Math.ceil(size.L / QT)
    const p = program(
      `${key}_${hs}_${kt}`,
      names,
      outputShape,
      units,
      gpu,
      size.declaration,
      `${indexing(hs)}${code}`,
    )
    const tensors = names.map(
      (n) => (args.inputs as Record<string, tfc.TensorInfo>)[n.toLowerCase()],
    )
    return gpu.runWebGPUProgram(p, tensors, 'float32', size.values)
  }
  return { a, hs, kt, q, k, run }
}

function forward(args: KernelArgs): tfc.TensorInfo {
  const { hs, kt, q, run } = setup(args)
  const n = hs / 4
  return run(
    'frugal_attention',
    ['Q', 'K', 'V', 'MASK'],
    q.shape,
    'query',
    querySide(
      {
        hs,
        kt,
        before: `var acc : array<vec4<f32>, ${n}>;
        var m = -3.402823e38;
        var l = 0.0;`,
        each: `let mNew = max(m, s);
              let correction = exp(m - mNew);
              let p = exp(s - mNew);
              l = l * correction + p;
              for (var d = 0; d < ${n}; d = d + 1) {
                acc[d] = acc[d] * correction + p * vTile[jj * ${n} + d];
              }
              m = mNew;`,
        after: `if (live) {${store(hs, 'qAt(b, i, h)', 'acc', ' / l')}
        }`,
      },
      true,
    ),
  )
}

function stats(args: KernelArgs): tfc.TensorInfo {
  const { a, hs, kt, q, run } = setup(args)
  return run(
    'frugal_attention_stats',
    ['Q', 'K', 'MASK', 'OUT', 'DOUT'],
    [a.B * a.heads * (q.shape[0] / a.B), 2],
    'query',
    querySide(
      {
        hs,
        kt,
        before: `var m = -3.402823e38;
        var l = 0.0;`,
        each: `let mNew = max(m, s);
              l = l * exp(m - mNew) + exp(s - mNew);
              m = mNew;`,
        after: `if (live) {
          let at = qAt(b, i, h);
          var delta = 0.0;
          for (var d = 0; d < ${hs}; d = d + 1) {
            delta = delta + OUT[at + d] * DOUT[at + d];
          }
          let st = statsAt(b, h, i);
          result[st] = m + log(l);
          result[st + 1] = delta;
        }`,
      },
      false,
    ),
  )
}

function gradQ(args: KernelArgs): tfc.TensorInfo {
  const { hs, kt, q, run } = setup(args)
  const n = hs / 4
  return run(
    'frugal_attention_dq',
    ['Q', 'K', 'V', 'MASK', 'DOUT', 'STATS'],
    q.shape,
    'query',
    querySide(
      {
        hs,
        kt,
        before: `var dout : array<vec4<f32>, ${n}>;
        var dq : array<vec4<f32>, ${n}>;
        var lse = 0.0;
        var delta = 0.0;
        if (live) {
          let at = qAt(b, i, h);
          for (var d = 0; d < ${n}; d = d + 1) {
            dout[d] = ${load4('DOUT', 'at + 4 * d')};
          }
          lse = STATS[statsAt(b, h, i)];
          delta = STATS[statsAt(b, h, i) + 1];
        }`,
        each: `let p = exp(s - lse);
              var dp = 0.0;
              for (var d = 0; d < ${n}; d = d + 1) {
                dp = dp + dot(dout[d], vTile[jj * ${n} + d]);
              }
              let ds = p * (dp - delta);
              for (var d = 0; d < ${n}; d = d + 1) {
                dq[d] = dq[d] + ds * kTile[jj * ${n} + d];
              }`,
        after: `if (live) {${store(hs, 'qAt(b, i, h)', 'dq')}
        }`,
      },
      true,
    ),
  )
}

/** dk (with the values: ds = p·(dp − D)) or dv (p alone), one key per thread. */
function gradKV(which: 'k' | 'v') {
  return (args: KernelArgs): tfc.TensorInfo => {
    const { hs, kt, k, run } = setup(args)
    const n = hs / 4
    const each =
      which === 'k'
        ? `var dp = 0.0;
                  for (var d = 0; d < ${n}; d = d + 1) {
                    dp = dp + dot(dTile[ii * ${n} + d], v[d]);
                  }
                  let ds = p * (dp - sTile[ii * 2 + 1]);
                  for (var d = 0; d < ${n}; d = d + 1) {
                    acc[d] = acc[d] + ds * qTile[ii * ${n} + d];
                  }`
        : `for (var d = 0; d < ${n}; d = d + 1) {
                    acc[d] = acc[d] + p * dTile[ii * ${n} + d];
                  }`
    return run(
      `frugal_attention_d${which}`,
      which === 'k'
        ? ['Q', 'K', 'V', 'MASK', 'DOUT', 'STATS']
        : ['Q', 'K', 'MASK', 'DOUT', 'STATS'],
      k.shape,
      'key',
      keySide(
        {
          hs,
          kt,
          before: `var acc : array<vec4<f32>, ${n}>;`,
          each,
          after: `if (live) {${store(hs, 'kAt(b, j, g)', 'acc')}
        }`,
        },
        which === 'k',
      ),
    )
  }
}

/** Whether the kernels take a head width: a whole number of vec4s. */
export const attentionHeadWidthFits = (hs: number) => hs % 4 === 0

export function registerWebGpuAttention(tf: typeof tfc): void {
  const kernels: [string, (args: KernelArgs) => tfc.TensorInfo][] = [
    [ATTENTION, forward],
    [ATTENTION_STATS, stats],
    [ATTENTION_GRAD_Q, gradQ],
    [ATTENTION_GRAD_K, gradKV('k')],
    [ATTENTION_GRAD_V, gradKV('v')],
  ]
  for (const [kernelName, f] of kernels) {
    tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: f })
  }
}
