import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs'
import { UserError } from '../../shared/errors'
import { fromBfloat16, fromFloat16 } from './floats'

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes
 * of JSON naming each tensor's dtype, shape and [begin, end) byte offsets into the data
 * that follows, then the data, little-endian, row-major. The header is padded with spaces
 * to a multiple of 8 bytes so the data is aligned. Written without a library: the format
 * is a page long, and no maintained JavaScript implementation exists on npm.
 */

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I8'

const dtypeBytes: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I8: 1 }

export interface StoredTensor {
  dtype: SafetensorsDtype
  shape: number[]
  /** Little-endian bytes. */
  data: Uint8Array
}

export interface HeaderEntry {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}

/** Bytes of a typed array as stored (this machine is little-endian, as the format is). */
export const bytesOf = (a: Float32Array | Uint16Array | Int8Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/** Write tensors (sorted by name, as Hugging Face's writer does) and string metadata. */
export function writeSafetensors(
  path: string,
  tensors: Map<string, StoredTensor>,
  metadata: Record<string, string> = {},
): { bytes: number } {
  const names = [...tensors.keys()].sort()
  const header: Record<string, HeaderEntry | Record<string, string>> = {}
  if (Object.keys(metadata).length) header.__metadata__ = metadata
  let offset = 0
  for (const name of names) {
    const t = tensors.get(name)!
    const expected = t.shape.reduce((a, b) => a * b, 1) * dtypeBytes[t.dtype]
    if (t.data.byteLength !== expected)
      throw new Error(
        `${name}: ${t.data.byteLength} bytes for shape [${t.shape.join(', ')}] in ${t.dtype}`,
      )
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] }
    offset += expected
  }
  let json = JSON.stringify(header)
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8
  json += ' '.repeat(pad)
  const headerBytes = Buffer.from(json, 'utf8')
  const length = Buffer.alloc(8)
  length.writeBigUInt64LE(BigInt(headerBytes.byteLength))
  const fd = openSync(path, 'w')
  try {
    writeSync(fd, length)
    writeSync(fd, headerBytes)
    for (const name of names) writeSync(fd, tensors.get(name)!.data)
  } finally {
    closeSync(fd)
  }
  return { bytes: 8 + headerBytes.byteLength + offset }
}

/**
 * Read a safetensors file, checking what a careful reader checks: the header fits the
 * file, every tensor's size matches its shape and dtype, and the data regions tile the
 * data section exactly.
 */
export function readSafetensors(path: string): {
  metadata: Record<string, string>
  tensors: Map<string, StoredTensor>
} {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const bad = (why: string) =>
      new UserError('invalid_params', `${path} is not a valid safetensors file: ${why}.`, 'path')
    if (size < 8) throw bad('it is shorter than its header length')
    const lengthBytes = Buffer.alloc(8)
    readSync(fd, lengthBytes, 0, 8, 0)
    const n = Number(lengthBytes.readBigUInt64LE())
    if (n > size - 8 || n > 100_000_000) throw bad('the header is longer than the file')
    const headerBytes = Buffer.alloc(n)
    readSync(fd, headerBytes, 0, n, 8)
    let header: Record<string, unknown>
    try {
      header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>
    } catch {
      throw bad('its header is not JSON')
    }
    const dataStart = 8 + n
    const dataSize = size - dataStart
    const metadata = (header.__metadata__ ?? {}) as Record<string, string>
    const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as [
      string,
      HeaderEntry,
    ][]
    const regions: [number, number][] = []
    const tensors = new Map<string, StoredTensor>()
    for (const [name, e] of entries) {
      const bytes = dtypeBytes[e.dtype as SafetensorsDtype]
      if (!bytes) throw bad(`${name} has dtype ${e.dtype}, which Frugal does not read`)
      const [begin, end] = e.data_offsets
      if (end - begin !== e.shape.reduce((a, b) => a * b, 1) * bytes || end > dataSize)
        throw bad(`${name}'s offsets do not match its shape`)
      regions.push([begin, end])
      const data = new Uint8Array(end - begin)
      if (data.byteLength) readSync(fd, data, 0, data.byteLength, dataStart + begin)
      tensors.set(name, { dtype: e.dtype as SafetensorsDtype, shape: e.shape, data })
    }
    regions.sort((a, b) => a[0] - b[0])
    let at = 0
    for (const [begin, end] of regions) {
      if (begin !== at) throw bad('its tensors overlap or leave gaps')
      at = end
    }
    if (at !== dataSize) throw bad('the data section does not match the header')
    return { metadata, tensors }
  } finally {
    closeSync(fd)
  }
}

/** A stored tensor as float32 (F32, F16 and BF16; I8 needs its scale, see hf.ts). */
export function toFloat32(t: StoredTensor): Float32Array {
  const copy = t.data.slice() // aligned copy
  if (t.dtype === 'F32') return new Float32Array(copy.buffer)
  if (t.dtype === 'F16') return fromFloat16(new Uint16Array(copy.buffer))
  if (t.dtype === 'BF16') return fromBfloat16(new Uint16Array(copy.buffer))
  throw new Error(`${t.dtype} is not a float type`)
}
