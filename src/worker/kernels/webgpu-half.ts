import type * as tfc from '@tensorflow/tfjs-core'
import { i32, type WebGpuBackendLike, type WebGpuProgram } from './webgpu-program'

/**
 * Reduced precision on webgpu: rounding to a format in one launch, and 16-bit storage.
 *   FrugalQuantize  x (float32)  ->  x rounded to the format, as float32
 *   FrugalPack16    x (float32, n)  ->  (⌈n/2⌉) int32: x rounded to bf16 or fp16 and
 *                   stored as two 16-bit values a word (element 2i in the low half)
 *   FrugalUnpack16  packed (int32), attribute `shape`  ->  float32 of that shape
 * The format is in the attributes (mantissaBits, minExponent, max, hasInf).
 * Rounding is to nearest, ties to even, with the format's subnormals and overflow (±inf, or
 * saturation at ±max for e4m3), as `quantize` composes it from tfjs ops in about twenty
 * launches (train/precision.ts); a test checks the two bit for bit. tfjs has no 16-bit
 * dtype, so the packed words are an int32 tensor nothing computes with: a tensor the
 * backward needs is kept that way at half the memory, and unpacked when it is used. The
 * rounded value is exact in the format, so packing and unpacking lose nothing more.
 */
export const QUANTIZE = 'FrugalQuantize'
export const PACK16 = 'FrugalPack16'
export const UNPACK16 = 'FrugalUnpack16'

/** A float format as the kernels take it (train/precision.ts's FloatFormat). */
export interface HalfFormat {
  mantissaBits: number
  minExponent: number
  max: number
  hasInf: boolean
}

/** Formats with a 16-bit storage layout. */
type Storage16 = 'bf16' | 'fp16'

/** Whether a format has a 16-bit storage layout here (bf16, fp16: not the fp8 ones). */
export const has16BitStorage = (f: HalfFormat) => f.mantissaBits === 7 || f.mantissaBits === 10

type KernelArgs = { inputs: tfc.NamedTensorInfoMap; backend: unknown; attrs?: tfc.NamedAttrMap }

/** WGSL: NaN from the bits (a shader compiler may assume x == x for floats). */
const isNanSnippet = `
      fn isNan(x : f32) -> bool {
        return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
      }`

/**
 * WGSL: `roundTo(x)` for the format. bf16 shares float32's exponent range, so rounding
 * is float32's bits rounded to their top 16 (the usual integer form of round-half-even);
 * the narrower formats round on a grid 2^(e − mantissaBits), e clamped to the smallest
 * normal exponent, built from bits (exp2 need not be exact), multiplying by a power of two
 * being exact.
 */
function roundSnippet(f: HalfFormat, bf16: boolean): string {
  if (bf16)
    return `
      ${isNanSnippet}
      fn roundTo(x : f32) -> f32 {
        if (isNan(x)) {
          return x;
        }
        let bits = bitcast<u32>(x);
        let rounded = bits + 0x7fffu + ((bits >> 16u) & 1u);
        return bitcast<f32>(rounded & 0xffff0000u);
      }`
  const limit = f.hasInf ? 'uniforms.INFINITY' : `${f.max.toFixed(1)}`
  return `
      fn powerOfTwo(k : i32) -> f32 {
        return bitcast<f32>(u32(k + 127) << 23u);
      }
      ${isNanSnippet}
      fn roundTo(x : f32) -> f32 {
        let ax = abs(x);
        if (isNan(x) || ax == 0.0) {
          return x;
        }
        if (ax > 3.4028234e38) {
          return sign(x) * ${limit};
        }
        let e = max(i32((bitcast<u32>(ax) >> 23u) & 0xffu) - 127, ${f.minExponent});
        // Multiplying by powers of two is exact; WGSL's division need not be.
        let r = round(ax * powerOfTwo(${f.mantissaBits} - e)) * powerOfTwo(e - ${f.mantissaBits});
        if (r > ${f.max.toFixed(1)}) {
          return sign(x) * ${limit};
        }
        return sign(x) * r;
      }`
}

/** WGSL: 16 bits of a value already exact in the format, and back. */
function bitsSnippet(storage: Storage16): string {
  if (storage === 'bf16')
    return `
      fn toBits(x : f32) -> u32 {
        return bitcast<u32>(x) >> 16u;
      }
      fn fromBits(h : u32) -> f32 {
        return bitcast<f32>(h << 16u);
      }`
  // IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa; subnormals are m · 2^-24.
  return `
      fn toBits(x : f32) -> u32 {
        let b = bitcast<u32>(x);
        let s = (b >> 16u) & 0x8000u;
        let ax = abs(x);
        if ((b & 0x7fffffffu) > 0x7f800000u) {
          return s | 0x7e00u;
        }
        if (ax > 65504.0) {
          return s | 0x7c00u;
        }
        let e = i32((b >> 23u) & 0xffu) - 127;
        if (e >= -14) {
          return s | (u32(e + 15) << 10u) | ((b >> 13u) & 0x3ffu);
        }
        return s | u32(ax * 16777216.0);
      }
      fn fromBits(h : u32) -> f32 {
        let s = select(1.0, -1.0, (h & 0x8000u) != 0u);
        let e = (h >> 10u) & 0x1fu;
        let m = h & 0x3ffu;
        if (e == 0u) {
          return s * f32(m) / 16777216.0;
        }
        if (e == 31u) {
          if (m != 0u) {
            return uniforms.NAN;
          }
          return s * uniforms.INFINITY;
        }
        return bitcast<f32>(((h & 0x8000u) << 16u) | ((e + 112u) << 23u) | (m << 13u));
      }`
}

const formatKey = (f: HalfFormat) => `${f.mantissaBits}_${f.minExponent}_${f.max}_${f.hasInf}`
const isBf16 = (f: HalfFormat) => f.mantissaBits === 7 && f.minExponent === -126

/** The format from a kernel's attributes (mantissaBits, minExponent, max, hasInf). */
function formatOf(attrs: tfc.NamedAttrMap): HalfFormat {
  return {
    mantissaBits: attrs.mantissaBits as number,
    minExponent: attrs.minExponent as number,
    max: attrs.max as number,
    hasInf: attrs.hasInf as boolean,
  }
}

/** A flat program, one output element a thread. */
function flat(
  key: string,
  names: string[],
  size: number,
  uniforms: string,
  code: string,
): WebGpuProgram {
  return {
    outputShape: [size],
    shaderKey: key,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(size / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    variableNames: names,
    uniforms,
    size: true,
    getUserCode: () => code,
  }
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1)

function quantize({ inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const { x } = inputs as { x: tfc.TensorInfo }
  const f = formatOf(attrs!)
  const n = sizeOf(x.shape)
  const program = flat(
    `frugal_quantize_${formatKey(f)}`,
    ['X'],
    n,
    '',
    `${roundSnippet(f, isBf16(f))}
      fn main(index : i32) {
        if (index < uniforms.size) {
          result[index] = roundTo(X[index]);
        }
      }`,
  )
  const out = (backend as WebGpuBackendLike).runWebGPUProgram(
    program,
    [{ ...x, shape: [n] }],
    'float32',
  )
  return { ...out, shape: x.shape }
}

function pack({ inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const { x } = inputs as { x: tfc.TensorInfo }
  const f = formatOf(attrs!)
  const storage: Storage16 = isBf16(f) ? 'bf16' : 'fp16'
  const n = sizeOf(x.shape)
  const program = flat(
    `frugal_pack16_${storage}`,
    ['X'],
    Math.ceil(n / 2),
    'n : i32,',
    `${roundSnippet(f, storage === 'bf16')}
      ${bitsSnippet(storage)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let lo = toBits(roundTo(X[2 * index]));
          var hi = 0u;
          if (2 * index + 1 < uniforms.n) {
            hi = toBits(roundTo(X[2 * index + 1]));
          }
          result[index] = bitcast<i32>(lo | (hi << 16u));
        }
      }`,
  )
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, [{ ...x, shape: [n] }], 'int32', [
    i32(n),
  ])
}

function unpack({ inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const { packed } = inputs as { packed: tfc.TensorInfo }
  const storage: Storage16 = isBf16(formatOf(attrs!)) ? 'bf16' : 'fp16'
  const shape = attrs!.shape as number[]
  const program = flat(
    `frugal_unpack16_${storage}`,
    ['P'],
    sizeOf(shape),
    '',
    `${bitsSnippet(storage)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let word = bitcast<u32>(P[index / 2]);
          result[index] = fromBits((word >> (16u * u32(index % 2))) & 0xffffu);
        }
      }`,
  )
  const out = (backend as WebGpuBackendLike).runWebGPUProgram(program, [packed], 'float32')
  return { ...out, shape }
}

export function registerWebGpuHalf(tf: typeof tfc): void {
  tf.registerKernel({
    kernelName: QUANTIZE,
    backendName: 'webgpu',
    kernelFunc: quantize,
  })
  tf.registerKernel({
    kernelName: PACK16,
    backendName: 'webgpu',
    kernelFunc: pack,
  })
  tf.registerKernel({
    kernelName: UNPACK16,
    backendName: 'webgpu',
    kernelFunc: unpack,
  })
}
