import type * as tfc from '@tensorflow/tfjs-core'
import {
  f32,
  runRowProgram,
  rowWorkgroup,
  type WebGpuBackendLike,
  type WebGpuProgram,
} from './webgpu-program'

/**
 * RMSNorm on webgpu in one launch forward and three backward, where the composed tfjs ops
 * take 6 and about 16 (each a launch and a new buffer):
 *   FrugalRmsNorm       x (N, D), w (D)          ->  y = x · r · w, r = 1/√(mean(x²) + ε)
 *   FrugalRmsNormGradX  x, w, dy (N, D)          ->  dx = r·(w ⊙ dy) − x · r³ · Σ(w ⊙ dy ⊙ x) / D
 *   FrugalRmsNormGradW  x, dy (N, D)             ->  dw = Σ_rows dy ⊙ x · r  (D)
 * Each row is one workgroup that reduces over the row in workgroup memory. dw sums over
 * rows: blocks of ROWS rows write partial sums (C, D), a second launch adds them up.
 */
export const RMSNORM = 'FrugalRmsNorm'
export const RMSNORM_GRAD_X = 'FrugalRmsNormGradX'
export const RMSNORM_GRAD_W = 'FrugalRmsNormGradW'

/** Rows per workgroup of dw's first pass. */
const ROWS = 32

/** WGSL: r of the row at `base` from Σx² over it (every thread gets it). */
const rowScale = (wg: number, valid = 'valid', base = 'base') => `
        var squares = 0.0;
        if (${valid}) {
          for (var j = lid; j < width; j = j + ${wg}) {
            let v = X[${base} + j];
            squares = squares + v * v;
          }
        }
        let r = inverseSqrt(rowSum(squares) / f32(width) + uniforms.eps);`

type KernelArgs = { inputs: tfc.NamedTensorInfoMap; backend: unknown; attrs?: tfc.NamedAttrMap }
type Backend = WebGpuBackendLike

function forward({ inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const { x, w } = inputs as { x: tfc.TensorInfo; w: tfc.TensorInfo }
  const [N, D] = x.shape
  return runRowProgram({
    key: 'frugal_rmsnorm',
    names: ['X', 'W'],
    rows: N,
    width: D,
    outputShape: [N, D],
    backend: backend as Backend,
    uniforms: 'eps : f32,',
    body: (wg) => `${rowScale(wg)}
        if (valid) {
          for (var j = lid; j < width; j = j + ${wg}) {
            result[base + j] = X[base + j] * r * W[j];
          }
        }`,
    inputs: [x, w],
    values: [f32(attrs!.eps as number)],
  })
}

function gradX({ inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const { x, w, dy } = inputs as { x: tfc.TensorInfo; w: tfc.TensorInfo; dy: tfc.TensorInfo }
  const [N, D] = x.shape
  return runRowProgram({
    key: 'frugal_rmsnorm_dx',
    names: ['X', 'W', 'DY'],
    rows: N,
    width: D,
    outputShape: [N, D],
    backend: backend as Backend,
    uniforms: 'eps : f32,',
    body: (wg) => `${rowScale(wg)}
        var dot = 0.0;
        if (valid) {
          for (var j = lid; j < width; j = j + ${wg}) {
            dot = dot + W[j] * DY[base + j] * X[base + j];
          }
        }
        let c = r * r * r * rowSum(dot) / f32(width);
        if (valid) {
          for (var j = lid; j < width; j = j + ${wg}) {
            result[base + j] = r * W[j] * DY[base + j] - X[base + j] * c;
          }
        }`,
    inputs: [x, w, dy],
    values: [f32(attrs!.eps as number)],
  })
}

function gradW({ inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const gpu = backend as Backend
  const { x, dy } = inputs as { x: tfc.TensorInfo; dy: tfc.TensorInfo }
  const [N, D] = x.shape
  const perThread = Math.ceil(D / rowWorkgroup(D)) // columns each thread accumulates
  const blocks = Math.ceil(N / ROWS)
  // (C, D): block c's sum over its ROWS rows of dy ⊙ x · r. Workgroup `row` is block c.
  const sums = runRowProgram({
    key: `frugal_rmsnorm_dw_${perThread}`,
    names: ['X', 'DY'],
    rows: N,
    workgroups: blocks,
    width: D,
    outputShape: [blocks, D],
    backend: gpu,
    uniforms: 'eps : f32,',
    body: (wg) => `
        var acc : array<f32, ${perThread}>;
        for (var i = 0; i < ${ROWS}; i = i + 1) {
          let inRow = row * ${ROWS} + i;
          let inValid = inRow < rows;
          let inBase = inRow * width;
          ${rowScale(wg, 'inValid', 'inBase')}
          if (inValid) {
            for (var m = 0; m < ${perThread}; m = m + 1) {
              let j = lid + m * ${wg};
              if (j < width) {
                acc[m] = acc[m] + DY[inBase + j] * X[inBase + j] * r;
              }
            }
          }
        }
        if (row * ${ROWS} < rows) {
          for (var m = 0; m < ${perThread}; m = m + 1) {
            let j = lid + m * ${wg};
            if (j < width) {
              result[row * width + j] = acc[m];
            }
          }
        }`,
    inputs: [x, dy],
    values: [f32(attrs!.eps as number)],
  })
  const total = gpu.runWebGPUProgram(columnSum(D), [sums], 'float32')
  gpu.disposeData(sums.dataId)
  return total
}

/** (C, D) -> (D): each thread adds one column. */
function columnSum(D: number): WebGpuProgram {
  return {
    outputShape: [D],
    shaderKey: 'frugal_column_sum',
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(D / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    variableNames: ['P'],
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var total = 0.0;
          for (var c = 0; c < uniforms.pShape[0]; c = c + 1) {
            total = total + P[c * uniforms.size + index];
          }
          result[index] = total;
        }
      }`,
  }
}

export function registerWebGpuRmsNorm(tf: typeof tfc): void {
  const kernels: [string, (args: KernelArgs) => tfc.TensorInfo][] = [
    [RMSNORM, forward],
    [RMSNORM_GRAD_X, gradX],
    [RMSNORM_GRAD_W, gradW],
  ]
  for (const [kernelName, f] of kernels) {
    tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: f })
  }
}
