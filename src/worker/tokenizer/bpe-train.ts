import { UserError } from '../../shared/errors'
import { BYTE_TO_CHAR, BYTES_IN_CHAR_ORDER } from './bytes'
import { BpeTokenizer } from './bpe-encode'
import { DEFAULT_PASSTHROUGH } from './hf-json'
import { bpeTrainOptionsSchema, type BpeTrainConfig, type BpeTrainOptions } from './options'
import { compilePattern, forEachPiece, PRETOKENIZER_PATTERNS, safeCut } from './pretokenize'
import { checkSpecialTokens } from './specials'
import { forEachChunk, Pacer, type ProgressCallback, type TextSource } from './train-common'

export interface BpeTrainStats {
  texts: number
  /** UTF-8 bytes of all texts. */
  bytes: number
  /** Distinct pieces counted (after pruning). */
  wordTypes: number
  /** Distinct pieces dropped by the `maxWordTypes` bound (0 unless the corpus is huge). */
  prunedWordTypes: number
  merges: number
  vocabSize: number
  /** `vocab_full`: reached `vocabSize`. `no_frequent_pair`: no pair occurs `minFrequency` times. */
  stopReason: 'vocab_full' | 'no_frequent_pair'
  countSeconds: number
  /** Building the pair index and merging. */
  mergeSeconds: number
}

export interface BpeTrainResult {
  tokenizer: BpeTokenizer
  stats: BpeTrainStats
}

/** A pair's exact count, and the words it may occur in (entries can be stale, never missing). */
interface PairStat {
  count: number
  words: number[]
}

/** Keeps a string out of the text it was sliced from, so counting does not retain whole documents. */
const detach = (s: string): string => (s.length < 13 ? s : (' ' + s).slice(1))

/**
 * Trains a byte-level BPE tokenizer, streaming: texts are read once and only the counts of
 * distinct pre-tokenized pieces are kept. Merges are learned as Hugging Face's trainer does
 * (and give the same merges on the same counts): pair counts are updated incrementally from
 * the words that contain the merged pair (an index from pair to words), and the most frequent
 * pair comes from a max-heap with lazily refreshed counts; ties go to the pair of smaller ids,
 * ids following the byte-character order. Training is deterministic and, unless `maxWordTypes`
 * prunes, independent of text order.
 *
 * Yields to the event loop every ~50 ms so `signal` (a worker's cancel) is seen; throws the
 * signal's reason when aborted.
 */
export async function trainBpe(
  texts: TextSource,
  options: BpeTrainOptions = {},
  onProgress?: ProgressCallback,
  signal?: AbortSignal,
): Promise<BpeTrainResult> {
  const config = parseOptions(options)
  const re = compilePattern(PRETOKENIZER_PATTERNS[config.pretokenizer])
  const counts = new Map<string, number>()
  let textCount = 0
  let bytes = 0
  let pruned = 0
  let pruneBelow = 1

  const started = performance.now()
  const countPacer = new Pacer(signal, () =>
    onProgress?.({
      phase: 'count',
      texts: textCount,
      bytes,
      fraction: config.totalBytes ? Math.min(1, bytes / config.totalBytes) : null,
      types: counts.size,
    }),
  )
  const addPiece = (piece: string) => {
    const c = counts.get(piece)
    if (c === undefined) counts.set(detach(piece), 1)
    else counts.set(piece, c + 1)
  }
  await forEachChunk(
    texts,
    safeCut,
    countPacer,
    (chunk) => {
      forEachPiece(re, chunk, addPiece)
      bytes += Buffer.byteLength(chunk, 'utf8')
      if (counts.size > config.maxWordTypes) {
        // Drop the rarest until a tenth of the room is free again.
        while (counts.size > config.maxWordTypes * 0.9) {
          for (const [word, c] of counts)
            if (c <= pruneBelow) {
              counts.delete(word)
              pruned++
            }
          if (counts.size > config.maxWordTypes * 0.9) pruneBelow++
        }
      }
    },
    () => textCount++,
  )
  countPacer.flush()
  const countSeconds = (performance.now() - started) / 1000

  const wordTypes = counts.size
  const mergeStarted = performance.now()
  const merger = new Merger(config, counts)
  counts.clear()
  const stopReason = await merger.run(onProgress, signal)
  const tokenizer = new BpeTokenizer({
    tokens: merger.tokens,
    merges: merger.merges,
    modelSize: merger.tokens.length,
    specials: config.specialTokens.map((content, id) => ({ id, content })),
    added: [],
    normalizer: null,
    splits: [PRETOKENIZER_PATTERNS[config.pretokenizer]],
    ignoreMerges: false,
    passthrough: DEFAULT_PASSTHROUGH,
  })
  return {
    tokenizer,
    stats: {
      texts: textCount,
      bytes,
      wordTypes,
      prunedWordTypes: pruned,
      merges: merger.merges.length,
      vocabSize: tokenizer.vocabSize,
      stopReason,
      countSeconds,
      mergeSeconds: (performance.now() - mergeStarted) / 1000,
    },
  }
}

function parseOptions(options: BpeTrainOptions): BpeTrainConfig {
  const parsed = bpeTrainOptionsSchema.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new UserError('invalid_params', issue.message, issue.path.join('.'))
  }
  const config = parsed.data
  checkSpecialTokens(config.specialTokens)
  const clash = config.specialTokens.find((t) => BYTE_TO_CHAR.includes(t))
  if (clash !== undefined)
    throw new UserError(
      'invalid_params',
      `The special token ${clash} is spelled like a byte token; choose a longer name.`,
      'specialTokens',
    )
  const base = config.specialTokens.length + 256
  if (config.vocabSize < base)
    throw new UserError(
      'invalid_params',
      `The vocabulary needs at least ${base} ids: ${config.specialTokens.length} special tokens and 256 bytes.`,
      'vocabSize',
    )
  return config
}

/** The merge phase, over the counted words. */
class Merger {
  /** Token strings by id: specials, the 256 byte characters, then merged tokens. */
  readonly tokens: string[]
  readonly merges: [number, number][] = []

  private readonly config: BpeTrainConfig
  private readonly V: number
  private readonly tokenBytes: number[]
  private readonly ids = new Map<string, number>()
  private readonly specials: Set<string>
  // Words as runs of token ids in one flat array; merging shortens them in place.
  private readonly sym: Int32Array
  private readonly start: Int32Array
  private readonly len: Int32Array
  private readonly weight: Float64Array
  private readonly pairs = new Map<number, PairStat>()
  private readonly heap = new PairHeap()

  constructor(config: BpeTrainConfig, counts: Map<string, number>) {
    this.config = config
    this.V = config.vocabSize
    this.specials = new Set(config.specialTokens)
    this.tokens = [...config.specialTokens]
    this.tokenBytes = config.specialTokens.map(() => 0)
    const byteId = new Int32Array(256)
    for (const byte of BYTES_IN_CHAR_ORDER) {
      byteId[byte] = this.tokens.length
      this.ids.set(BYTE_TO_CHAR[byte], this.tokens.length)
      this.tokens.push(BYTE_TO_CHAR[byte])
      this.tokenBytes.push(1)
    }

    // Words of one byte have no pairs and are left out.
    const encoder = new TextEncoder()
    let words = 0
    let total = 0
    for (const word of counts.keys()) {
      const n = Buffer.byteLength(word, 'utf8')
      if (n > 1) {
        words++
        total += n
      }
    }
    this.sym = new Int32Array(total)
    this.start = new Int32Array(words)
    this.len = new Int32Array(words)
    this.weight = new Float64Array(words)
    const scratch = new Uint8Array(this.sym.length)
    let w = 0
    let at = 0
    for (const [word, count] of counts) {
      const n = encoder.encodeInto(word, scratch.subarray(at)).written
      if (n <= 1) continue
      for (let i = 0; i < n; i++) this.sym[at + i] = byteId[scratch[at + i]]!
      this.start[w] = at
      this.len[w] = n
      this.weight[w] = count
      at += n
      w++
    }

    for (let w = 0; w < words; w++) {
      const s = this.start[w]
      const end = s + this.len[w]
      for (let i = s; i + 1 < end; i++) this.add(this.sym[i] * this.V + this.sym[i + 1], w)
    }
    for (const [key, stat] of this.pairs)
      if (stat.count >= config.minFrequency) this.heap.push(stat.count, key)
  }

  async run(
    onProgress: ProgressCallback | undefined,
    signal: AbortSignal | undefined,
  ): Promise<BpeTrainStats['stopReason']> {
    const { V, pairs, heap, sym, tokens } = this
    const target = this.config.vocabSize - this.tokens.length
    const report = () =>
      onProgress?.({
        phase: 'merge',
        merges: this.merges.length,
        targetMerges: target,
        fraction: target === 0 ? 1 : Math.min(1, this.merges.length / target),
      })
    const pacer = new Pacer(signal, report)
    const touched = new Set<number>()
    const maxBytes = this.config.maxTokenBytes ?? Infinity

    while (tokens.length < this.config.vocabSize) {
      await pacer.tick()
      if (heap.size === 0) {
        pacer.flush()
        return 'no_frequent_pair'
      }
      const count = heap.topCount()
      const key = heap.pop()
      const stat = pairs.get(key)
      if (stat === undefined) continue // merged, or dropped as not allowed
      if (stat.count !== count) {
        // Stale: counts only fall between pushes, so the true maximum is still ahead.
        if (stat.count >= this.config.minFrequency) heap.push(stat.count, key)
        continue
      }
      const a = Math.floor(key / V)
      const b = key - a * V
      const merged = tokens[a] + tokens[b]
      if (this.tokenBytes[a] + this.tokenBytes[b] > maxBytes || this.specials.has(merged)) {
        pairs.delete(key)
        continue
      }
      // The same string can come from two different merges: it keeps one id, as in Hugging Face.
      let z = this.ids.get(merged)
      if (z === undefined) {
        z = tokens.length
        tokens.push(merged)
        this.tokenBytes.push(this.tokenBytes[a] + this.tokenBytes[b])
        this.ids.set(merged, z)
      }
      this.merges.push([a, b])
      pairs.delete(key)

      touched.clear()
      for (const w of stat.words) {
        const s = this.start[w]
        const end = s + this.len[w]
        const c = this.weight[w]
        let j = s
        for (let i = s; i < end;) {
          if (i + 1 < end && sym[i] === a && sym[i + 1] === b) {
            // Pairs with the neighbours change: (L, a) → (L, z) and (b, R) → (z, R). The left
            // neighbour is read from the rewritten part, so "a b a b" counts (z, z) once.
            if (j > s) {
              const left = sym[j - 1]
              this.remove(left * V + a, c)
              this.add(left * V + z, w, c)
              touched.add(left * V + z)
            }
            if (i + 2 < end) {
              const right = sym[i + 2]
              this.remove(b * V + right, c)
              this.add(z * V + right, w, c)
              touched.add(z * V + right)
            }
            sym[j++] = z
            i += 2
          } else sym[j++] = sym[i++]!
        }
        this.len[w] = j - s
      }
      for (const k of touched) {
        const st = pairs.get(k)
        if (st !== undefined && st.count >= this.config.minFrequency) heap.push(st.count, k)
      }
    }
    pacer.flush()
    return 'vocab_full'
  }

  private add(key: number, word: number, count = this.weight[word]): void {
    let stat = this.pairs.get(key)
    if (stat === undefined) {
      stat = { count: 0, words: [] }
      this.pairs.set(key, stat)
    }
    stat.count += count
    const words = stat.words
    if (words.length === 0 || words[words.length - 1] !== word) words.push(word)
  }

  private remove(key: number, count: number): void {
    const stat = this.pairs.get(key)
    if (stat === undefined) return // the pair being merged
    stat.count -= count
    if (stat.count === 0) this.pairs.delete(key)
  }
}

/** Max-heap of (count, pair key): higher count first, then the smaller key (smaller left id, then right). */
class PairHeap {
  private counts = new Float64Array(1024)
  private keys = new Float64Array(1024)
  size = 0

  topCount(): number {
    return this.counts[0]
  }

  push(count: number, key: number): void {
    if (this.size === this.counts.length) {
      const c = new Float64Array(this.size * 2)
      const k = new Float64Array(this.size * 2)
      c.set(this.counts)
      k.set(this.keys)
      this.counts = c
      this.keys = k
    }
    const { counts, keys } = this
    let i = this.size++
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(count, key, counts[p], keys[p])) break
      counts[i] = counts[p]!
      keys[i] = keys[p]!
      i = p
    }
    counts[i] = count
    keys[i] = key
  }

  pop(): number {
    const { counts, keys } = this
    const top = keys[0]
    const n = --this.size
    const count = counts[n]
    const key = keys[n]
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && before(counts[child + 1], keys[child + 1], counts[child], keys[child]))
        child++
      if (!before(counts[child], keys[child], count, key)) break
      counts[i] = counts[child]!
      keys[i] = keys[child]!
      i = child
    }
    counts[i] = count
    keys[i] = key
    return top
  }
}

function before(countA: number, keyA: number, countB: number, keyB: number): boolean {
  return countA > countB || (countA === countB && keyA < keyB)
}
