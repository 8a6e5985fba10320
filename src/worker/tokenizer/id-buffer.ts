/** A growable Int32Array: encoding appends ids without boxing them in a JavaScript array. */
export class IdBuffer {
  data: Int32Array
  length = 0

  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity))
  }

  push(id: number): void {
    if (this.length === this.data.length) this.grow(1)
    this.data[this.length++] = id
  }

  pushAll(ids: Int32Array): void {
    if (this.length + ids.length > this.data.length) this.grow(ids.length)
    if (ids.length < 16) for (let i = 0; i < ids.length; i++) this.data[this.length++] = ids[i]!
    else {
      this.data.set(ids, this.length)
      this.length += ids.length
    }
  }

  /** The ids, in an array of their own size. */
  result(): Int32Array {
    return this.data.slice(0, this.length)
  }

  private grow(extra: number): void {
    const next = new Int32Array(Math.max(this.data.length * 2, this.length + extra))
    next.set(this.data.subarray(0, this.length))
    this.data = next
  }
}

interface WellFormed {
  isWellFormed(): boolean
  toWellFormed(): string
}

/** The text with lone surrogates replaced by U+FFFD (ES2024, in Node since 20), as UTF-8 needs. */
export function wellFormed(text: string): string {
  const s = text as unknown as WellFormed
  return s.isWellFormed() ? text : s.toWellFormed()
}
