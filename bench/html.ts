/**
 * Main-text extraction on real web pages: precision, recall and F1 of what `frugal data
 * import` keeps from each page, against segments that must and must not be kept.
 *
 *   npm run bench:html                          ../shared/data/html-eval (990 pages)
 *   npm run bench:html -- --data DIR            another set laid out the same way
 *   npm run bench:html -- --worst 20            also list the 20 pages that lose most (stderr)
 *
 * The set is the evaluation set of the trafilatura project: `pages/*.html` and `truth.json`
 * ({ id: { url, with: [...], without: [...] } }). The pages are imported through the real
 * import path (a project file, the import threads, the HTML reader) and the stored text of
 * each is scored with the set's published metric: whitespace-normalized, a `with` segment
 * found is a true positive and missed a false negative, a `without` segment found is a false
 * positive and absent a true negative; a page the import refused counts as empty text.
 * Prints one JSON object on stdout; progress on stderr.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Store } from '../src/store'
import { runImport } from '../src/worker/data/import/importer'
import { setDataThreadsDir } from '../src/worker/data/thread-entry'
import { externalDataPath } from './external-data'

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    worst: { type: 'string', default: '0' },
  },
})
const note = (message: string) => process.stderr.write(`${message}\n`)
const round = (x: number, digits = 3) => Number(x.toFixed(digits))

const dataDir = externalDataPath(
  {
    name: 'html-eval',
    env: 'FRUGAL_HTML_EVAL',
    source:
      'the trafilatura project (tests/evaldata.json with tests/cache and tests/eval in ' +
      'adbar/trafilatura, Apache-2.0), laid out as pages/<id>.html and truth.json',
  },
  args.data,
)
const pagesDir = join(dataDir, 'pages')
const truthPath = join(dataDir, 'truth.json')
if (!existsSync(pagesDir) || !existsSync(truthPath)) {
  console.error(`${dataDir} must hold pages/<id>.html and truth.json.`)
  process.exit(2)
}

interface Truth {
  url: string
  with: string[]
  without: string[]
}
const truth = JSON.parse(readFileSync(truthPath, 'utf8')) as Record<string, Truth>

// The import threads run the built bundle when there is one (`npm run build`), as in the app.
const builtDir = resolve('out/main')
const built = ['data-thread.js', 'import-thread.js'].every((f) => existsSync(join(builtDir, f)))
if (built) setDataThreadsDir(builtDir)

const normalize = (text: string) => text.replace(/\s+/g, ' ').trim()

const pageFiles = readdirSync(pagesDir).filter((f) => /\.html?$/.test(f))
const bytes = pageFiles.reduce((n, f) => n + statSync(join(pagesDir, f)).size, 0)
const dir = mkdtempSync(join(tmpdir(), 'frugal-bench-html-'))
try {
  const store = Store.create(join(dir, 'bench.frugal'))
  let lastNote = 0
  note(`Importing ${pageFiles.length} pages (${Math.round(bytes / 1e6)} MB)…`)
  const started = performance.now()
  const imported = await runImport(
    { dataset: 'html-eval', paths: [pagesDir], format: 'html' },
    {
      store,
      jobId: 'bench',
      signal: new AbortController().signal,
      progress: (p) => {
        if (Date.now() - lastNote < 5000) return
        lastNote = Date.now()
        note(
          `${p.message ?? 'Importing'}: ${Math.round(p.done)}${p.total ? ` / ${p.total}` : ''} ${p.unit}`,
        )
      },
      throwIfCancelled: () => undefined,
    },
  )
  const seconds = (performance.now() - started) / 1000

  const texts = new Map<string, string>()
  for (const row of store.documents.exportRows(imported.datasetId, 'all'))
    texts.set(basename(row.source).replace(/\.html?$/, ''), normalize(row.text))
  store.close()

  let tp = 0
  let fn = 0
  let fp = 0
  let tn = 0
  const perPage: { id: string; url: string; lost: number; missed: string[]; kept: string[] }[] = []
  for (const [id, page] of Object.entries(truth)) {
    const text = texts.get(id) ?? ''
    const missed = page.with.filter((s) => !text.includes(normalize(s)))
    const kept = page.without.filter((s) => text.includes(normalize(s)))
    tp += page.with.length - missed.length
    fn += missed.length
    fp += kept.length
    tn += page.without.length - kept.length
    if (missed.length + kept.length > 0)
      perPage.push({ id, url: page.url, lost: missed.length + kept.length, missed, kept })
  }
  const precision = tp / (tp + fp)
  const recall = tp / (tp + fn)
  const worst = Number(args.worst)
  if (worst > 0) {
    perPage.sort((a, b) => b.lost - a.lost)
    for (const p of perPage.slice(0, worst)) {
      note(`\n${p.id} ${p.url}: ${p.missed.length} missed, ${p.kept.length} boilerplate kept`)
      for (const s of p.missed.slice(0, 3)) note(`  missed: ${s.slice(0, 100)}`)
      for (const s of p.kept.slice(0, 3)) note(`  kept:   ${s.slice(0, 100)}`)
    }
  }
  console.log(
    JSON.stringify(
      {
        set: dataDir,
        pages: Object.keys(truth).length,
        imported: imported.imported,
        refused: Object.keys(truth).length - texts.size,
        precision: round(precision),
        recall: round(recall),
        f1: round((2 * precision * recall) / (precision + recall)),
        accuracy: round((tp + tn) / (tp + tn + fp + fn)),
        segments: { truePositive: tp, falseNegative: fn, falsePositive: fp, trueNegative: tn },
        pagesWithLosses: perPage.length,
        import: {
          seconds: round(seconds, 1),
          pagesPerSecond: round(pageFiles.length / seconds, 1),
          mbPerSecond: round(bytes / 1e6 / seconds, 2),
          mb: round(bytes / 1e6, 1),
        },
        machine: {
          cpus: cpus().length,
          model: cpus()[0]?.model ?? 'unknown',
          node: process.version,
          threadCode: built ? 'built (out/main/*-thread.js)' : 'source (tsx)',
          loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
        },
      },
      null,
      2,
    ),
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
