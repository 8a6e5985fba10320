import type { Rng } from '../../shared/rng'
import type { GenerateOptions } from '../../shared/generate'

/**
 * Token ids in descending order of logit (ties: the smaller id first), popped one at a
 * time from a binary max-heap. Building it is O(V); each pop O(log V). Sampling needs the
 * most likely tokens in order only until the draw lands, the top k or the nucleus is
 * complete: a few dozen of a trained model's 150,000, where sorting the whole vocabulary
 * took tens of milliseconds a token.
 */
class ByLogit {
  private readonly heap: Int32Array
  private size: number

  constructor(private readonly logits: Float32Array) {
    const V = logits.length
    this.heap = new Int32Array(V)
    for (let i = 0; i < V; i++) this.heap[i] = i
    this.size = V
    for (let i = (V >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  /** True when token a comes before token b. */
  private before(a: number, b: number): boolean {
    const la = this.logits[a]
    const lb = this.logits[b]
    return la > lb || (la === lb && a < b)
  }

  private siftDown(start: number): void {
    const h = this.heap
    let i = start
    for (;;) {
      const left = 2 * i + 1
      if (left >= this.size) return
      const right = left + 1
      const child = right < this.size && this.before(h[right], h[left]) ? right : left
      if (!this.before(h[child], h[i])) return
      const t = h[i]
      h[i] = h[child]
      h[child] = t
      i = child
    }
  }

  /** The next token in order, or -1 when every token has been taken. */
  pop(): number {
    if (this.size === 0) return -1
    const top = this.heap[0]
    this.heap[0] = this.heap[--this.size]
    this.siftDown(0)
    return top
  }
}

/**
 * Choose the next token from logits: greedy at temperature 0, else softmax(logits / T)
 * restricted to the top k and to the top-p nucleus, sampled with the seeded RNG. Tokens are
 * visited most likely first, so a draw picks the same token as it did when the whole
 * vocabulary was sorted (up to the rounding of the total's sum, which is now summed in id
 * order).
 */
export function sampleToken(
  logits: Float32Array,
  o: Pick<GenerateOptions, 'temperature' | 'topK' | 'topP'>,
  rng: Rng,
): number {
  const V = logits.length
  let best = 0
  for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i
  if (o.temperature === 0) return best
  const max = logits[best]
  const weight = (id: number) => Math.exp((logits[id] - max) / o.temperature)
  const order = new ByLogit(logits)
  const k = o.topK > 0 ? Math.min(o.topK, V) : V

  // The candidates taken so far, in order, with their unnormalized probabilities.
  const ids: number[] = []
  const probs: number[] = []
  const take = () => {
    const id = order.pop()
    ids.push(id)
    probs.push(weight(id))
    return probs[probs.length - 1]
  }

  let total = 0
  if (k < V) {
    for (let i = 0; i < k; i++) total += take()
  } else {
    for (let i = 0; i < V; i++) total += weight(i)
  }
  if (o.topP < 1) {
    // The nucleus: the most likely tokens until their mass reaches topP of the total.
    let mass = 0
    let kept = 0
    while (kept < k && mass < o.topP * total) {
      if (kept === ids.length) take()
      mass += probs[kept++]
    }
    kept = Math.max(1, kept)
    if (ids.length === 0) take()
    ids.length = kept
    probs.length = kept
    total = probs.reduce((a, b) => a + b, 0)
    return draw(ids, probs, total, rng, () => -1)
  }
  return draw(ids, probs, total, rng, () => (ids.length < k ? take() : -1))
}

/**
 * Walks the candidates in order, subtracting each one's probability from a uniform draw
 * over `total`; `more` takes the next candidate when the list taken so far is used up
 * (-1: none left). The last candidate catches the rounding left at the end.
 */
function draw(ids: number[], probs: number[], total: number, rng: Rng, more: () => number): number {
  let r = rng.next() * total
  for (let i = 0; ; i++) {
    if (i === ids.length && more() === -1) return ids[ids.length - 1]
    r -= probs[i]
    if (r <= 0) return ids[i]
  }
}
