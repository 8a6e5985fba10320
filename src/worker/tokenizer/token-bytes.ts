/** Every token's bytes in one flat buffer, so decoding is a copy per token and one UTF-8 decode. */
export class TokenBytes {
  readonly size: number
  private readonly offsets: Int32Array
  private readonly data: Uint8Array
  private readonly special: Uint8Array

  constructor(tokens: readonly Uint8Array[], specialIds: Iterable<number>) {
    this.size = tokens.length
    this.offsets = new Int32Array(tokens.length + 1)
    let total = 0
    tokens.forEach((t, id) => {
      this.offsets[id] = total
      total += t.length
    })
    this.offsets[tokens.length] = total
    this.data = new Uint8Array(total)
    tokens.forEach((t, id) => this.data.set(t, this.offsets[id]))
    this.special = new Uint8Array(tokens.length)
    for (const id of specialIds) this.special[id] = 1
  }

  isSpecial(id: number): boolean {
    return this.special[id] === 1
  }

  bytesOf(id: number): Uint8Array {
    this.assertId(id)
    return this.data.subarray(this.offsets[id], this.offsets[id + 1])
  }

  /** The bytes of a sequence of ids, special tokens included unless skipped. */
  concat(ids: ArrayLike<number>, skipSpecial: boolean): Uint8Array {
    const { offsets, data, special } = this
    let total = 0
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]
      this.assertId(id)
      if (!(skipSpecial && special[id] === 1)) total += offsets[id + 1] - offsets[id]
    }
    const out = new Uint8Array(total)
    let p = 0
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]
      if (skipSpecial && special[id] === 1) continue
      const end = offsets[id + 1]
      for (let k = offsets[id]; k < end; k++) out[p++] = data[k]!
    }
    return out
  }

  /** Throws a RangeError unless `id` is a token id. */
  assertId(id: number): void {
    if (!(id >= 0 && id < this.size && (id | 0) === id))
      throw new RangeError(`Token id ${id} is not in the vocabulary (0..${this.size - 1}).`)
  }
}
