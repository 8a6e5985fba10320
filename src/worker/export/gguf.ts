import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { fromFloat16, toFloat16 } from './floats'

/**
 * GGUF, the file llama.cpp, Ollama and LM Studio load: a header of typed key/value
 * metadata and tensor descriptions, then the tensors' data, each at an aligned offset
 * (ggml's docs/gguf.md, version 3). Written by hand: the format is short and the npm
 * packages that write it are unmaintained or read-only.
 */

/** ggml tensor types Frugal writes. */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType]

/** A metadata value, tagged with its GGUF type. */
export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: readonly string[] }
  | { type: 'i32s'; value: ArrayLike<number> }
  | { type: 'f32s'; value: ArrayLike<number> }

export interface GgufTensor {
  name: string
  /** ggml's order: the fastest-varying dimension first ([in, out] for an [out, in] matrix). */
  dims: number[]
  type: GgmlType
  data: Uint8Array
}

const ALIGNMENT = 32
/** GGUF's value type codes. */
const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const

/** A growable little-endian byte buffer for the header. */
class Bytes {
  private buf = new Uint8Array(1 << 16)
  private view = new DataView(this.buf.buffer)
  length = 0

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n))
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
    this.view = new DataView(next.buffer)
  }
  u32(x: number): void {
    this.room(4)
    this.view.setUint32(this.length, x, true)
    this.length += 4
  }
  i32(x: number): void {
    this.room(4)
    this.view.setInt32(this.length, x, true)
    this.length += 4
  }
  u64(x: number): void {
    this.room(8)
    this.view.setBigUint64(this.length, BigInt(x), true)
    this.length += 8
  }
  f32(x: number): void {
    this.room(4)
    this.view.setFloat32(this.length, x, true)
    this.length += 4
  }
  raw(b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
  }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8')
    this.u64(b.length)
    this.raw(b)
  }
  pad(): void {
    const n = (ALIGNMENT - (this.length % ALIGNMENT)) % ALIGNMENT
    this.raw(new Uint8Array(n))
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length)
  }
}

function writeValue(out: Bytes, v: GgufValue): void {
  switch (v.type) {
    case 'u32':
      out.u32(T.u32)
      return out.u32(v.value)
    case 'i32':
      out.u32(T.i32)
      return out.i32(v.value)
    case 'f32':
      out.u32(T.f32)
      return out.f32(v.value)
    case 'bool':
      out.u32(T.bool)
      return out.raw(Uint8Array.of(v.value ? 1 : 0))
    case 'string':
      out.u32(T.string)
      return out.string(v.value)
    case 'strings':
      out.u32(T.array)
      out.u32(T.string)
      out.u64(v.value.length)
      for (const s of v.value) out.string(s)
      return
    case 'i32s':
    case 'f32s': {
      out.u32(T.array)
      out.u32(v.type === 'i32s' ? T.i32 : T.f32)
      out.u64(v.value.length)
      for (let i = 0; i < v.value.length; i++)
        if (v.type === 'i32s') out.i32(v.value[i])
        else out.f32(v.value[i])
    }
  }
}

/**
 * Write a GGUF file. It is written under a temporary name and renamed at the end, so a
 * write that fails midway (a full disk) leaves no partial file. Returns its size in bytes.
 */
export function writeGguf(
  path: string,
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly GgufTensor[],
): number {
  const head = new Bytes()
  head.raw(Buffer.from('GGUF', 'latin1'))
  head.u32(3)
  head.u64(tensors.length)
  head.u64(metadata.size)
  for (const [key, value] of metadata) {
    head.string(key)
    writeValue(head, value)
  }
  let offset = 0
  for (const t of tensors) {
    head.string(t.name)
    head.u32(t.dims.length)
    for (const d of t.dims) head.u64(d)
    head.u32(t.type)
    head.u64(offset)
    offset += Math.ceil(t.data.length / ALIGNMENT) * ALIGNMENT
  }
  head.pad()

  const partial = `${path}.partial`
  const fd = openSync(partial, 'w')
  let size = 0
  const write = (b: Uint8Array) => {
    let done = 0
    while (done < b.length) done += writeSync(fd, b, done, b.length - done)
    size += b.length
  }
  try {
    write(head.bytes())
    for (const t of tensors) {
      write(t.data)
      const n = (ALIGNMENT - (t.data.length % ALIGNMENT)) % ALIGNMENT
      if (n) write(new Uint8Array(n))
    }
    closeSync(fd)
    renameSync(partial, path)
    return size
  } catch (err) {
    try {
      closeSync(fd)
    } catch {
      // already closed
    }
    rmSync(partial, { force: true })
    throw err
  }
}

/** float32 values as they are stored in a tensor of type `type`. */
export function encodeTensor(values: Float32Array, type: GgmlType): Uint8Array {
  if (type === GgmlType.F32)
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
  if (type === GgmlType.F16) {
    const h = toFloat16(values)
    return new Uint8Array(h.buffer, h.byteOffset, h.byteLength)
  }
  return quantizeQ8_0(values)
}

/** Elements per Q8_0 block: one float16 scale, then 32 int8 values. */
export const Q8_0_BLOCK = 32

/** Q8_0 blocks back to float32: each block's 32 int8 values times its float16 scale. */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const blocks = bytes.length / (2 + Q8_0_BLOCK)
  const out = new Float32Array(blocks * Q8_0_BLOCK)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let b = 0; b < blocks; b++) {
    const base = b * (2 + Q8_0_BLOCK)
    const d = fromFloat16(Uint16Array.of(view.getUint16(base, true)))[0]
    for (let j = 0; j < Q8_0_BLOCK; j++) out[b * Q8_0_BLOCK + j] = view.getInt8(base + 2 + j) * d
  }
  return out
}

/**
 * ggml's Q8_0, as its reference quantize_row_q8_0 computes it: per block of 32, d = max|x|/127
 * (stored as float16), q = round(x/d), half away from zero. The length must be a multiple of 32.
 */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % Q8_0_BLOCK !== 0) throw new Error('Q8_0 needs a multiple of 32 values.')
  const blocks = x.length / Q8_0_BLOCK
  const out = new Uint8Array(blocks * (2 + Q8_0_BLOCK))
  const view = new DataView(out.buffer)
  for (let b = 0; b < blocks; b++) {
    const at = b * Q8_0_BLOCK
    let amax = 0
    for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(x[at + j]))
    const d = Math.fround(amax / 127)
    const id = d ? Math.fround(1 / d) : 0
    const base = b * (2 + Q8_0_BLOCK)
    view.setUint16(base, toFloat16(Float32Array.of(d))[0], true)
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const v = Math.fround(x[at + j] * id)
      view.setInt8(base + 2 + j, Math.sign(v) * Math.round(Math.abs(v)))
    }
  }
  return out
}
