/**
 * float32 to the bit patterns of bfloat16 and IEEE half precision, round to nearest even,
 * and back: what a safetensors file in BF16 or F16 holds. (tfjs has neither dtype; the
 * training engine emulates their rounding in float32, train/precision.ts.)
 */

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** bfloat16 is the top half of a float32: round the dropped 16 bits to nearest even. */
export function toBfloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length)
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length)
  for (let i = 0; i < values.length; i++) {
    const x = bits[i]
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x007fffff) !== 0) {
      out[i] = (x >>> 16) | 0x0040 // NaN stays NaN (quiet)
      continue
    }
    const lsb = (x >>> 16) & 1
    out[i] = ((x + 0x7fff + lsb) >>> 16) & 0xffff
  }
  return out
}

export function fromBfloat16(values: Uint16Array): Float32Array {
  const out = new Float32Array(values.length)
  const bits = new Uint32Array(out.buffer)
  for (let i = 0; i < values.length; i++) bits[i] = values[i] << 16
  return out
}

/** IEEE 754 binary16: 5 exponent bits, 10 mantissa bits; overflow to ±inf, subnormals kept. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]
    const x = u32[0]
    const sign = (x >>> 16) & 0x8000
    const exp = (x >>> 23) & 0xff
    let mant = x & 0x7fffff
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0) // inf or NaN
      continue
    }
    let e = exp - 127 + 15
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00 // too large: inf
      continue
    }
    if (e <= 0) {
      // Subnormal (or zero): shift the implicit 1 in, then round to nearest even.
      if (e < -10) {
        out[i] = sign
        continue
      }
      mant |= 0x800000
      const shift = 14 - e
      const half = 1 << (shift - 1)
      const rest = mant & ((1 << shift) - 1)
      let m = mant >>> shift
      if (rest > half || (rest === half && m & 1)) m++
      out[i] = sign | m
      continue
    }
    // Normal: keep 10 mantissa bits, round the other 13 to nearest even (may carry into e).
    const rest = mant & 0x1fff
    let m = mant >>> 13
    if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
      m++
      if (m === 0x400) {
        m = 0
        e++
        if (e >= 0x1f) {
          out[i] = sign | 0x7c00
          continue
        }
      }
    }
    out[i] = sign | (e << 10) | m
  }
  return out
}

export function fromFloat16(values: Uint16Array): Float32Array {
  const out = new Float32Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const h = values[i]
    const sign = h & 0x8000 ? -1 : 1
    const exp = (h >>> 10) & 0x1f
    const mant = h & 0x3ff
    if (exp === 0) out[i] = sign * mant * 2 ** -24
    else if (exp === 0x1f) out[i] = mant ? NaN : sign * Infinity
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15)
  }
  return out
}
