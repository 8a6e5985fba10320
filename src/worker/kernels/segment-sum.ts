import type * as tfc from '@tensorflow/tfjs-core'

/**
 * UnsortedSegmentSum, O(rows·width): out[ids[r]] += x[r]. The gradient of tf.gather and
 * of our MoE dispatch. The wasm backend has no such kernel (so embeddings could not
 * train there) and the cpu backend's loops over every segment with a full-tensor mask
 * (51 s for one 4096-row embedding gradient). Negative or out-of-range ids are dropped,
 * as in TensorFlow.
 */
export function segmentSum(
  x: Float32Array,
  ids: Int32Array,
  numSegments: number,
  rowSize: number,
  out: Float32Array,
): void {
  out.fill(0)
  for (let r = 0; r < ids.length; r++) {
    const s = ids[r]
    if (s < 0 || s >= numSegments) continue
    const src = r * rowSize
    const dst = s * rowSize
    for (let j = 0; j < rowSize; j++) out[dst + j] += x[src + j]
  }
}

interface SegmentSumInputs {
  x: tfc.TensorInfo
  segmentIds: tfc.TensorInfo
}

function shapes(inputs: SegmentSumInputs, numSegments: number) {
  const idCount = inputs.segmentIds.shape.reduce((a, b) => a * b, 1)
  const size = inputs.x.shape.reduce((a, b) => a * b, 1)
  const outShape = [numSegments, ...inputs.x.shape.slice(inputs.segmentIds.shape.length)]
  return {
    rowSize: idCount === 0 ? 0 : size / idCount,
    outShape,
    outSize: outShape.reduce((a, b) => a * b, 1),
  }
}

/** The parts of the wasm backend a JS kernel needs: tensors live on the wasm heap. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tfc.DataType): tfc.TensorInfo
  typedArrayFromHeap(t: tfc.TensorInfo): Float32Array | Int32Array | Uint8Array
}

interface CpuBackendLike {
  data: { get(dataId: tfc.DataId): { values: ArrayLike<number> } }
  makeTensorInfo(shape: number[], dtype: tfc.DataType, values: Float32Array): tfc.TensorInfo
}

export function registerSegmentSum(tf: typeof tfc, backendName: 'wasm' | 'cpu'): void {
  const registered = (backend: string) => tf.getKernel('UnsortedSegmentSum', backend) !== undefined
  if (backendName === 'wasm') {
    // The wasm backend ships no UnsortedSegmentSum, so this adds rather than replaces.
    if (!registered('wasm')) {
      tf.registerKernel({
        kernelName: 'UnsortedSegmentSum',
        backendName: 'wasm',
        kernelFunc: ({ inputs, backend, attrs }) => {
          const b = backend as unknown as WasmBackendLike
          const { x, segmentIds } = inputs as unknown as SegmentSumInputs
          const numSegments = (attrs as { numSegments: number }).numSegments
          const { rowSize, outShape } = shapes({ x, segmentIds }, numSegments)
          const out = b.makeOutput(outShape, 'float32')
          // Views are taken after the allocation: malloc may grow (and move) the heap.
          segmentSum(
            b.typedArrayFromHeap(x) as Float32Array,
            b.typedArrayFromHeap(segmentIds) as Int32Array,
            numSegments,
            rowSize,
            b.typedArrayFromHeap(out) as Float32Array,
          )
          return out
        },
      })
    }
  }
  if (backendName === 'cpu') {
    if (registered('cpu')) tf.unregisterKernel('UnsortedSegmentSum', 'cpu')
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'cpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const b = backend as unknown as CpuBackendLike
        const { x, segmentIds } = inputs as unknown as SegmentSumInputs
        const numSegments = (attrs as { numSegments: number }).numSegments
        const { rowSize, outShape, outSize } = shapes({ x, segmentIds }, numSegments)
        const out = new Float32Array(outSize)
        const xv = b.data.get(x.dataId).values
        const ids = b.data.get(segmentIds.dataId).values
        segmentSum(
          xv instanceof Float32Array ? xv : Float32Array.from(xv),
          ids instanceof Int32Array ? ids : Int32Array.from(ids),
          numSegments,
          rowSize,
          out,
        )
        return b.makeTensorInfo(outShape, 'float32', out)
      },
    })
  }
}
