import { formats } from '../../src/worker/train/precision'

/** Values that probe every corner: ties, binade edges, subnormals, overflow, signs. */
export function probeValues(): Float32Array {
  const values: number[] = [
    0,
    -0,
    1,
    -1,
    448,
    449,
    464,
    480,
    65504,
    65519,
    65520,
    57344,
    61439,
    61440,
    1e-8,
    -3e-5,
    6e-5,
    2 ** -14,
    2 ** -17,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    1.5,
    2.5,
    1 + 2 ** -8,
    1 + 3 * 2 ** -8,
    3.4e38,
  ]
  let s = 12345
  for (let i = 0; i < 20000; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const mant = 1 + (s & 0xffffff) / 0x1000000
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const exp = (s % 80) - 40
    values.push((s & 1 ? -1 : 1) * mant * 2 ** exp)
  }
  // Exact halfway points between neighbours of each format: ties must go to even.
  for (const f of Object.values(formats)) {
    for (let k = 0; k < 64; k++)
      values.push((1 + (2 * k + 1) * 2 ** -(f.mantissaBits + 1)) * 2 ** (k % 5))
  }
  return Float32Array.from(values)
}
