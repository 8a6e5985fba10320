/**
 * The one seeded PRNG (xoshiro128**), for everything that must repeat from a seed: a run's
 * initialization, batch sampling and DropPath, the quality model's shuffles, review's audit
 * samples. Its whole state is four 32-bit words, so a run's randomness can be checkpointed
 * and resumed bit-exactly; Math.random and tfjs's seeded ops cannot be resumed that way.
 */
export type RngState = [number, number, number, number]

export class Rng {
  private s: Uint32Array

  constructor(seed: number | RngState) {
    this.s = new Uint32Array(4)
    if (Array.isArray(seed)) {
      this.s.set(seed)
    } else {
      // splitmix32 spreads one seed over four non-zero words.
      let x = seed >>> 0
      for (let i = 0; i < 4; i++) {
        x = (x + 0x9e3779b9) >>> 0
        let z = x
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
        this.s[i] = (z ^ (z >>> 16)) >>> 0
      }
    }
    if (this.s.every((w) => w === 0)) this.s[0] = 1
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0
    const t = (s[1] << 9) >>> 0
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 11)
    return result
  }

  /** Uniform in [0, 1), 32 bits of randomness. */
  next(): number {
    return this.nextU32() / 4294967296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Standard normal (Box-Muller; one value per two uniforms, no cached spare, so state stays 4 words). */
  normal(): number {
    const u = 1 - this.next() // (0, 1]
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** A Float32Array of N(0, std²) values. */
  normalArray(size: number, std: number): Float32Array {
    const out = new Float32Array(size)
    for (let i = 0; i < size; i++) out[i] = this.normal() * std
    return out
  }

  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]]
  }

  /** An independent generator derived from this one (advances this one by four draws). */
  fork(): Rng {
    return new Rng([this.nextU32(), this.nextU32(), this.nextU32(), this.nextU32()])
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
