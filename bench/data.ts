/**
 * Data pipeline benchmark: import, clean (rules + quality model) and deduplication
 * (exact + MinHash LSH) over a generated web-like corpus, with peak memory.
 *
 *   npm run bench:data                  100 MB corpus of ~2 KB documents (articles)
 *   npm run bench:data -- --short       100 MB of ~700-byte documents (forum posts, reviews)
 *   npm run bench:data -- --mb 1000     10x, to check that memory stays flat
 *   npm run bench:data -- --input corpus.jsonl   your own JSONL ({"text": ...} per line)
 *
 * The corpus (tests' synthetic generator: prose, 5% exact and 5% near duplicates, junk,
 * other languages, personal data) is streamed to a temporary JSONL file first; that is
 * not timed. Import and cleaning run in this process exactly as `frugal data import` and
 * `frugal data clean` run them (cleaning in one worker thread per core). Prints one JSON
 * object on stdout; progress on stderr. MB are 10^6 bytes of input file.
 */
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Store } from '../src/store'
import { defaultRuleSet } from '../src/shared/data/rules'
import { runImport } from '../src/worker/data/import/importer'
import { runClean } from '../src/worker/data/pipeline/clean'
import { setDataThreadsDir } from '../src/worker/data/thread-entry'
import { LONG_DOCUMENTS, SHORT_DOCUMENTS, syntheticCorpus } from '../test/helpers/synthetic-corpus'

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '100' },
    input: { type: 'string' },
    threads: { type: 'string' },
    keep: { type: 'boolean', default: false },
    short: { type: 'boolean', default: false },
  },
})
const shape = args.short ? SHORT_DOCUMENTS : LONG_DOCUMENTS
const MB = 1e6

// The worker threads run the built bundle when there is one (`npm run build`), as in the
// app; from source each thread would also carry a TypeScript compiler.
const builtDir = resolve('out/main')
const built = ['data-thread.js', 'import-thread.js'].every((f) => existsSync(join(builtDir, f)))
if (built) setDataThreadsDir(builtDir)
const round = (x: number, digits = 2) => Number(x.toFixed(digits))
const note = (message: string) => process.stderr.write(`${message}\n`)

/** Peak resident memory of this process (its worker threads included), sampled, by phase. */
let peakRss = 0
let phase = 'import'
const phasePeaks: Record<string, number> = {}
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss()
  peakRss = Math.max(peakRss, rss)
  phasePeaks[phase] = Math.max(phasePeaks[phase] ?? 0, rss)
}, 50)
sampler.unref()

async function generate(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path)
  let written = 0
  let documents = 0
  for (const doc of syntheticCorpus(2024, shape)) {
    if (written >= bytes) break
    const line = `${JSON.stringify({ id: doc.id, text: doc.text })}\n`
    written += Buffer.byteLength(line)
    documents++
    if (!out.write(line)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return documents
}

async function timed<T>(body: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const start = performance.now()
  const cpu0 = process.cpuUsage()
  const value = await body()
  const cpu = process.cpuUsage(cpu0)
  return { value, wall: (performance.now() - start) / 1000, cpu: (cpu.user + cpu.system) / 1e6 }
}

const dir = mkdtempSync(join(tmpdir(), 'frugal-bench-data-'))
try {
  const input = args.input ? resolve(args.input) : join(dir, 'corpus.jsonl')
  if (!args.input) {
    note(`Generating ${args.mb} MB of synthetic web text…`)
    await generate(input, Number(args.mb) * MB)
  }
  const bytes = statSync(input).size
  const store = Store.create(join(dir, 'bench.frugal'))
  const signal = new AbortController().signal
  let lastNote = 0
  const deps = {
    store,
    jobId: 'bench',
    signal,
    progress: (p: { done: number; total: number | null; unit: string; message?: string }) => {
      if (p.message?.startsWith('Training')) phase = 'train'
      else if (p.message === 'Cleaning') phase = 'rules'
      else if (p.message === 'Finding duplicates') phase = 'dedup'
      if (Date.now() - lastNote < 5000) return
      lastNote = Date.now()
      note(`${p.message ?? ''}: ${Math.round(p.done)}${p.total ? ` / ${p.total}` : ''} ${p.unit}`)
    },
    log: (_level: string, message: string) => note(message),
    throwIfCancelled: () => undefined,
  }
  peakRss = 0
  const imported = await timed(() =>
    runImport({ dataset: 'bench', paths: [input], format: 'auto' }, deps),
  )
  const importPeak = peakRss
  const threads = args.threads !== undefined ? Number(args.threads) : availableParallelism()
  const cleaned = await timed(() =>
    runClean(imported.value.datasetId, defaultRuleSet(), { ...deps, threads }),
  )
  const t = cleaned.value.timings
  const documents = imported.value.imported
  // Everything but clustering: the rules' main pass overlaps training, so their
  // timings do not add up; the score indexes' rebuild and the final counts are in.
  const cleanSeconds = (t.total - t.dedup) / 1000
  const dedupSeconds = t.dedup / 1000
  const result = {
    corpus: {
      source: args.input
        ? input
        : `synthetic (test/helpers/synthetic-corpus.ts, seed 2024, ${args.short ? 'short' : 'long'} documents)`,
      mb: round(bytes / MB, 1),
      documents: imported.value.imported,
    },
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      memoryGB: round(totalmem() / 1e9, 1),
      node: process.version,
      threads,
      threadCode: built ? 'built (out/main/*-thread.js)' : 'source (tsx)',
      // Other work on the machine slows the wall clock; the CPU seconds are steadier.
      loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    },
    import: {
      mbPerSecond: round(bytes / MB / imported.wall),
      documentsPerSecond: Math.round(documents / imported.wall),
      seconds: round(imported.wall, 1),
      cpuSeconds: round(imported.cpu, 1),
      peakRssMB: Math.round(importPeak / 2 ** 20),
    },
    clean: {
      mbPerSecond: round(bytes / MB / cleanSeconds),
      documentsPerSecond: Math.round(documents / cleanSeconds),
      seconds: round(cleanSeconds, 1),
      trainSeconds: round(t.train / 1000, 1),
    },
    dedup: {
      mbPerSecond: round(bytes / MB / dedupSeconds),
      seconds: round(dedupSeconds, 1),
      clusters: cleaned.value.duplicateClusters,
      removed: (cleaned.value.byRule.dedup_exact ?? 0) + (cleaned.value.byRule.dedup_near ?? 0),
    },
    endToEnd: {
      mbPerSecond: round(bytes / MB / (imported.wall + cleaned.wall)),
      documentsPerSecond: Math.round(documents / (imported.wall + cleaned.wall)),
      seconds: round(imported.wall + cleaned.wall, 1),
      cpuSeconds: round(imported.cpu + cleaned.cpu, 1),
      nearDuplicates: true,
    },
    // Sampled every 50 ms from the start of the import (corpus generation excluded).
    peakRssMB: Math.round(peakRss / 2 ** 20),
    peakRssMBByPhase: Object.fromEntries(
      Object.entries(phasePeaks).map(([k, v]) => [k, Math.round(v / 2 ** 20)]),
    ),
    // The kernel's high-water mark for the whole process, generation included.
    processMaxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    outcome: {
      kept: cleaned.value.kept,
      modified: cleaned.value.modified,
      removed: cleaned.value.removed,
      review: cleaned.value.review,
      byRule: cleaned.value.byRule,
      modelHoldoutAccuracy: cleaned.value.model?.holdoutAccuracy ?? null,
    },
    projectFileMB: Math.round(statSync(store.path).size / MB),
  }
  store.close()
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
} finally {
  clearInterval(sampler)
  if (args.keep) note(`Kept ${dir}`)
  else rmSync(dir, { recursive: true, force: true })
}
