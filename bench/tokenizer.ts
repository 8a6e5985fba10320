/**
 * Tokenizer benchmark: training time, encode and decode speed, compression.
 *
 *   npx tsx bench/tokenizer.ts [--mb 32] [--vocab 4096] [--runs 3]
 *                              [--shakespeare PATH]   (default: FRUGAL_SHAKESPEARE, else
 *                                                      ../shared/data/tinyshakespeare.txt)
 *
 * Corpora: tinyshakespeare (read at run time; the benchmark stops if it is absent) and a generated multilingual
 * corpus of `--mb` MB of UTF-8, streamed to the trainer document by document (never held in memory).
 * Speeds are measured on one core, document by document as the training engine encodes, as
 * MB/s of UTF-8 by wall clock and by CPU time (steadier on a shared machine); encode
 * is reported cold (fresh tokenizer, empty cache) and warm (best of `--runs` later passes).
 * If the `tokenizers` devDependency is installed, Hugging Face's encoder runs on the same
 * tokenizer.json for comparison (and must give the same ids). Prints one JSON object.
 */
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type * as Hf from 'tokenizers'
import { fromJSON, trainBpe, trainChar, type Tokenizer } from '../src/worker/tokenizer'
import { multilingualStream } from '../test/unit/tokenizer/corpus'
import { externalDataPath, tinyShakespeare } from './external-data'

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '32' },
    vocab: { type: 'string', default: '4096' },
    runs: { type: 'string', default: '3' },
    shakespeare: { type: 'string' },
  },
})
const shakespearePath = externalDataPath(tinyShakespeare, args.shakespeare)
const vocabSize = Number(args.vocab)
const runs = Number(args.runs)
const MB = 1e6

const utf8Bytes = (texts: readonly string[]) =>
  texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0)
const round = (x: number, digits = 2) => Number(x.toFixed(digits))

/** Wall-clock and CPU seconds: on a shared machine the CPU time is the steadier measure. */
interface Timing {
  wall: number
  cpu: number
}

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

function time<T>(fn: () => T): [T, Timing] {
  const wall = performance.now()
  const cpu = cpuSeconds()
  const value = fn()
  return [value, { wall: (performance.now() - wall) / 1000, cpu: cpuSeconds() - cpu }]
}

const best = (a: Timing, b: Timing): Timing => ({
  wall: Math.min(a.wall, b.wall),
  cpu: Math.min(a.cpu, b.cpu),
})
const NEVER: Timing = { wall: Infinity, cpu: Infinity }
/** MB/s by wall clock and by CPU time. */
const speed = (bytes: number, t: Timing) => ({
  wall: round(bytes / MB / t.wall),
  cpu: round(bytes / MB / t.cpu),
})

/** Encode and decode speeds of a tokenizer on documents, and whether text came back exactly. */
function measure(tokenizer: Tokenizer, docs: readonly string[]) {
  const bytes = utf8Bytes(docs)
  const fresh = fromJSON(tokenizer.serialize())
  const [encoded, cold] = time(() => docs.map((d) => fresh.encode(d)))
  let warm = NEVER
  for (let r = 0; r < runs; r++) warm = best(warm, time(() => docs.map((d) => fresh.encode(d)))[1])
  let decode = NEVER
  let decoded: string[] = []
  for (let r = 0; r < runs; r++) {
    const [out, t] = time(() => encoded.map((ids) => fresh.decode(ids)))
    decoded = out
    decode = best(decode, t)
  }
  const tokens = encoded.reduce((n, ids) => n + ids.length, 0)
  return {
    results: {
      encodeMBps: speed(bytes, warm),
      encodeColdMBps: speed(bytes, cold),
      decodeMBps: speed(bytes, decode),
      tokens,
      bytesPerToken: round(bytes / tokens, 3),
      roundTrip: decoded.every((d, i) => d === docs[i]),
    },
    encoded,
  }
}

/** Hugging Face's encoder on the same file, if the devDependency is there. */
async function huggingFace(tokenizer: Tokenizer, docs: readonly string[], ours: Int32Array[]) {
  let hf: typeof Hf
  try {
    hf = await import('tokenizers')
  } catch {
    return { skipped: 'the tokenizers package is not installed' }
  }
  const theirs = hf.Tokenizer.fromString(tokenizer.serialize())
  // encodeBatch amortizes the N-API crossing; batches of 1000 documents.
  const encodeAll = async () => {
    const out: number[][] = []
    for (let i = 0; i < docs.length; i += 1000) {
      const batch = await theirs.encodeBatch(docs.slice(i, i + 1000), { addSpecialTokens: false })
      for (const e of batch) out.push(e.getIds())
    }
    return out
  }
  let seconds = Infinity
  let ids: number[][] = []
  for (let r = 0; r < runs; r++) {
    const start = performance.now()
    ids = await encodeAll()
    seconds = Math.min(seconds, (performance.now() - start) / 1000)
  }
  return {
    encodeMBps: round(utf8Bytes(docs) / MB / seconds),
    note: 'Rust via N-API, encodeBatch on its thread pool (all cores)',
    sameIds: ids.every(
      (doc, i) => doc.length === ours[i].length && doc.every((id, k) => id === ours[i][k]),
    ),
  }
}

/** The first documents of a stream, up to about `bytes` of UTF-8. */
function* utf8Prefix(docs: Iterable<string>, bytes: number) {
  let total = 0
  for (const doc of docs) {
    if (total >= bytes) return
    total += Buffer.byteLength(doc, 'utf8')
    yield doc
  }
}

/** Wraps a document source, timing how long producing the documents takes. */
function timed(source: Iterable<string>) {
  const clock: Timing = { wall: 0, cpu: 0 }
  const iterable = (function* () {
    const it = source[Symbol.iterator]()
    for (;;) {
      const [next, t] = time(() => it.next())
      clock.wall += t.wall
      clock.cpu += t.cpu
      if (next.done === true) return
      yield next.value
    }
  })()
  return { iterable, clock }
}

async function bpeReport(name: string, source: Iterable<string>, sample: string[]) {
  const { iterable, clock } = timed(source)
  const wall = performance.now()
  const cpu = cpuSeconds()
  const { tokenizer, stats } = await trainBpe(iterable, { vocabSize })
  const train: Timing = {
    wall: (performance.now() - wall) / 1000 - clock.wall,
    cpu: cpuSeconds() - cpu - clock.cpu,
  }
  const countSeconds = stats.countSeconds - clock.wall
  const { results, encoded } = measure(tokenizer, sample)
  return {
    corpus: name,
    trainMB: round(stats.bytes / MB),
    sampleMB: round(utf8Bytes(sample) / MB),
    vocabSize: tokenizer.vocabSize,
    // Excludes the time spent generating streamed documents.
    train: {
      seconds: round(train.wall),
      cpuSeconds: round(train.cpu),
      countSeconds: round(countSeconds),
      countMBps: round(stats.bytes / MB / countSeconds),
      mergeSeconds: round(stats.mergeSeconds),
      merges: stats.merges,
      mergesPerSecond: Math.round(stats.merges / stats.mergeSeconds),
      wordTypes: stats.wordTypes,
      // Whole process so far (corpus sample included): training memory grows with distinct words.
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1000),
    },
    ...results,
    huggingFace: await huggingFace(tokenizer, sample, encoded),
  }
}

async function main() {
  const report: Record<string, unknown> = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    // Other work on the machine slows the wall-clock figures; CPU-time figures much less.
    loadAverageAtStart: round(loadavg()[0]),
  }

  const text = readFileSync(shakespearePath, 'utf8')
  // One document per speech (blank-line separated), as a dataset would hold it.
  const docs = text.split(/(?<=\n\n)/)
  report.shakespeare = await bpeReport('tinyshakespeare', docs, docs)
  const { tokenizer } = await trainChar(docs)
  report.shakespeareChar = { vocabSize: tokenizer.vocabSize, ...measure(tokenizer, docs).results }

  // Training streams the generated documents; the speed sample is held out (same lexicon,
  // other sentences). Sizes are UTF-8 bytes.
  const sample = [...utf8Prefix(multilingualStream(2, Infinity, 3000, 1), 8 * MB)]
  const stream = utf8Prefix(multilingualStream(1, Infinity), Number(args.mb) * MB)
  report.multilingual = await bpeReport('generated multilingual', stream, sample)
  report.loadAverageAtEnd = round(loadavg()[0])
  console.log(JSON.stringify(report, null, 2))
}

await main()
