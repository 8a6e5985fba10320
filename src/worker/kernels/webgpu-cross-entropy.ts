import type * as tfc from '@tensorflow/tfjs-core'
import { f32, runRowProgram, type WebGpuBackendLike } from './webgpu-program'

/**
 * Softmax cross-entropy over the vocabulary on webgpu, one launch each way, where the
 * composed ops take about 15 forward and 6 backward and keep the probabilities (N, V) from
 * the forward for the backward (and the exponentials beside them):
 *   FrugalCrossEntropy      z (N, V), t (N) int32[, wt (N)]   ->  per-row loss (N):
 *                           (lse(z) − (1−ε)·z_t − ε·mean(z)) · wt
 *   FrugalCrossEntropyGrad  z, t, dy (1)[, wt]                  ->  dz (N, V):
 *                           (softmax(z) − ((1−ε)·onehot(t) + ε/V)) · dy · scale · wt
 * ε is label smoothing, `scale` the caller's (1/N for a mean). The backward recomputes
 * each row's log-sum-exp instead of keeping anything of size V: the forward saves nothing.
 * Each row is one workgroup: the row's maximum, then Σexp(z − max), over workgroup memory.
 */
export const CROSS_ENTROPY = 'FrugalCrossEntropy'
export const CROSS_ENTROPY_GRAD = 'FrugalCrossEntropyGrad'

type KernelArgs = { inputs: tfc.NamedTensorInfoMap; backend: unknown; attrs?: tfc.NamedAttrMap }

/** WGSL: the row's max `m` and log-sum-exp `lse` (every thread gets both). */
const logSumExp = (wg: number) => `
        var localMax = -3.402823e38;
        if (valid) {
          for (var j = lid; j < width; j = j + ${wg}) {
            localMax = max(localMax, Z[base + j]);
          }
        }
        let m = rowMax(localMax);
        var localSum = 0.0;
        if (valid) {
          for (var j = lid; j < width; j = j + ${wg}) {
            localSum = localSum + exp(Z[base + j] - m);
          }
        }
        let lse = m + log(rowSum(localSum));`

function forward({ inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const { z, t, wt } = inputs as Record<string, tfc.TensorInfo>
  const [N, V] = z.shape
  const weighted = wt !== undefined
  return runRowProgram({
    key: 'frugal_cross_entropy',
    names: weighted ? ['Z', 'T', 'WT'] : ['Z', 'T'],
    rows: N,
    width: V,
    outputShape: [N],
    backend: backend as WebGpuBackendLike,
    uniforms: 'smoothing : f32,',
    body: (wg) => `${logSumExp(wg)}
        var localTotal = 0.0;
        if (valid) {
          for (var j = lid; j < width; j = j + ${wg}) {
            localTotal = localTotal + Z[base + j];
          }
        }
        let mean = rowSum(localTotal) / f32(width);
        if (valid && lid == 0) {
          let eps = uniforms.smoothing;
          let loss = lse - (1.0 - eps) * Z[base + T[row]] - eps * mean;
          result[row] = loss${weighted ? ' * WT[row]' : ''};
        }`,
    inputs: weighted ? [z, t, wt] : [z, t],
    values: [f32(attrs!.smoothing as number)],
  })
}

function backward({ inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const { z, t, dy, wt } = inputs as Record<string, tfc.TensorInfo>
  const [N, V] = z.shape
  const weighted = wt !== undefined
  return runRowProgram({
    key: 'frugal_cross_entropy_grad',
    names: weighted ? ['Z', 'T', 'DY', 'WT'] : ['Z', 'T', 'DY'],
    rows: N,
    width: V,
    outputShape: [N, V],
    backend: backend as WebGpuBackendLike,
    uniforms: 'smoothing : f32, scale : f32,',
    body: (wg) => `${logSumExp(wg)}
        if (valid) {
          let eps = uniforms.smoothing;
          let k = DY[0] * uniforms.scale${weighted ? ' * WT[row]' : ''};
          let goal = T[row];
          for (var j = lid; j < width; j = j + ${wg}) {
            var want = eps / f32(width);
            if (j == goal) {
              want = want + 1.0 - eps;
            }
            result[base + j] = (exp(Z[base + j] - lse) - want) * k;
          }
        }`,
    inputs: weighted ? [z, t, dy, wt] : [z, t, dy],
    values: [f32(attrs!.smoothing as number), f32(attrs!.scale as number)],
  })
}

export function registerWebGpuCrossEntropy(tf: typeof tfc): void {
  tf.registerKernel({
    kernelName: CROSS_ENTROPY,
    backendName: 'webgpu',
    kernelFunc: forward,
  })
  tf.registerKernel({
    kernelName: CROSS_ENTROPY_GRAD,
    backendName: 'webgpu',
    kernelFunc: backward,
  })
}
