import { deflateSync, inflateSync } from 'node:zlib'

/**
 * Lossless tensor encodings for checkpoints. Floats are byte-shuffled before deflate (all
 * first bytes, then all second bytes...: the shuffle filter of Blosc and HDF5), which puts
 * the slowly varying sign and exponent bytes together. Deltas XOR the float bits against
 * an earlier checkpoint first: consecutive checkpoints differ mostly in low mantissa bits,
 * so the high byte planes become runs of zeros.
 */
export type TensorEncoding = 'raw' | 'shuffle-deflate' | 'xor-shuffle-deflate'

export interface EncodedTensor {
  encoding: TensorEncoding
  data: Buffer
}

/** Fast deflate: checkpoints are written while training runs, so speed beats ratio. */
const LEVEL = 1

/** Byte planes of 4-byte words: out[p·n + i] = in[4·i + p]. */
function shuffle(bytes: Uint8Array): Uint8Array {
  const n = bytes.length / 4
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i < n; i++) {
    out[i] = bytes[4 * i]!
    out[n + i] = bytes[4 * i + 1]!
    out[2 * n + i] = bytes[4 * i + 2]!
    out[3 * n + i] = bytes[4 * i + 3]!
  }
  return out
}

function unshuffle(planes: Uint8Array): Uint8Array {
  const n = planes.length / 4
  const out = new Uint8Array(planes.length)
  for (let i = 0; i < n; i++) {
    out[4 * i] = planes[i]!
    out[4 * i + 1] = planes[n + i]!
    out[4 * i + 2] = planes[2 * n + i]!
    out[4 * i + 3] = planes[3 * n + i]!
  }
  return out
}

export function encodeTensor(values: Float32Array, base?: Float32Array): EncodedTensor {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
  if (base && base.length === values.length) {
    const a = new Uint32Array(values.buffer, values.byteOffset, values.length)
    const b = new Uint32Array(base.buffer, base.byteOffset, base.length)
    const x = new Uint32Array(values.length)
    for (let i = 0; i < x.length; i++) x[i] = a[i] ^ b[i]
    return {
      encoding: 'xor-shuffle-deflate',
      data: deflateSync(shuffle(new Uint8Array(x.buffer)), { level: LEVEL }),
    }
  }
  const packed = deflateSync(shuffle(bytes), { level: LEVEL })
  // Keep deflate only when it pays for its decoding time.
  return packed.length < bytes.length * 0.95
    ? { encoding: 'shuffle-deflate', data: packed }
    : { encoding: 'raw', data: Buffer.from(bytes) }
}

export function decodeTensor(
  encoded: EncodedTensor,
  size: number,
  base?: Float32Array,
): Float32Array {
  const bytes = encoded.encoding === 'raw' ? encoded.data : unshuffle(inflateSync(encoded.data))
  if (bytes.length !== size * 4)
    throw new Error(`Tensor data has ${bytes.length} bytes, expected ${size * 4}.`)
  const out = new Float32Array(size)
  new Uint8Array(out.buffer).set(bytes)
  if (encoded.encoding === 'xor-shuffle-deflate') {
    if (!base || base.length !== size)
      throw new Error('A delta-encoded tensor needs its base tensor.')
    const o = new Uint32Array(out.buffer)
    const b = new Uint32Array(base.buffer, base.byteOffset, base.length)
    for (let i = 0; i < size; i++) o[i] ^= b[i]
  }
  return out
}
