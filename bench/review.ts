/**
 * Review workspace latency on a large dataset: how long the next document takes to arrive
 * after a decision (saved first), and the other moves a reviewer makes.
 *
 *   npm run bench:review                 1,000,000 documents
 *   npm run bench:review -- --docs 100000
 *   npm run bench:review -- --keep       keep the project file (its path is printed)
 *
 * Builds a project with N short documents as cleaning leaves them (statuses, scores, rules,
 * duplicate clusters; the full-text index included), then drives the same API the app
 * uses: in-process through the router, and over HTTP through `frugal serve`'s server with
 * its token. Prints one JSON object on stdout with p50/p95/max in milliseconds; progress on
 * stderr. Latency is the server's answer: the browser's rendering is not included.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createBackend } from '../src/main/backend'
import { startServer } from '../src/main/serve/server'
import type { MethodName, Params, Result } from '../src/shared/api'
import type { ApiResult } from '../src/shared/errors'
import type { Queue } from '../src/shared/review'
import { Store } from '../src/store'
import { SearchIndex } from '../src/store/repos/search-index'
import { openDatabase, writeTransaction } from '../src/store/database'

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    decisions: { type: 'string', default: '400' },
    keep: { type: 'boolean', default: false },
  },
})
const N = Number(args.docs)
const DECISIONS = Number(args.decisions)
const note = (m: string) => process.stderr.write(`${m}\n`)

/** Seeded generator, so the dataset is the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const words = `the harbour village river market bread oven festival museum garden station road
bridge winter summer morning evening visitors council farmer teacher library square coast
island valley workshop concert history network ferry boat weather storm tide stone mill`
  .split(/\s+/)
  .filter(Boolean)

function buildProject(path: string): { datasetId: number; seconds: number } {
  const started = performance.now()
  const store = Store.create(path)
  const now = new Date().toISOString()
  const datasetId = store.datasets.create('million', now)
  // The app has no call that writes a million made-up documents: a second connection
  // (opened as the app opens one) writes them, as a test would.
  const db = openDatabase(path, { create: false })
  const random = rng(42)
  const insert = db.prepare(
    `INSERT INTO documents (dataset_id, source, text, cleaned_text, char_count, token_estimate,
       status, auto_status, decided_by, decision_rule, quality_score, dup_cluster, modified, reasons)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '[]')`,
  )
  // The full-text index is written by the code that writes documents (migration 007), not
  // by a trigger: a builder that inserts rows itself must index them too, as import does.
  const search = new SearchIndex(db)
  const batch = 20_000
  for (let start = 0; start < N; start += batch) {
    writeTransaction(db, () => {
      for (let i = start; i < Math.min(N, start + batch); i++) {
        const n = 40 + Math.floor(random() * 40)
        // One document in a thousand also mentions a lighthouse: a rare search term.
        const text =
          Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ') +
          (i % 1000 === 7 ? ' lighthouse' : '')
        const r = random()
        // As cleaning leaves a web crawl: most kept, some removed by rules or as duplicates,
        // a few percent in the uncertain band.
        const [status, rule, decider] =
          r < 0.04
            ? ['review', 'quality', 'model']
            : r < 0.12
              ? ['removed', 'gopher_quality', 'rules']
              : r < 0.16
                ? ['removed', 'dedup_near', 'dedup']
                : ['kept', null, 'rules']
        const score = status === 'review' ? 0.3 + random() * 0.3 : random()
        const { lastInsertRowid } = insert.run(
          datasetId,
          `crawl/${i}.html`,
          text,
          text,
          text.length,
          Math.ceil(text.length / 4),
          status,
          status,
          decider,
          rule,
          score,
          rule === 'dedup_near' ? Math.max(1, i - 1) : null,
        )
        search.added(Number(lastInsertRowid), text)
      }
    })
    if ((start / batch) % 10 === 0)
      note(`documents: ${Math.min(N, start + batch).toLocaleString('en')}`)
  }
  // Cleaning leaves a finished run behind; the review screen looks for it.
  db.prepare(
    `INSERT INTO clean_runs (dataset_id, job_id, owner_pid, state, rules, started_at, finished_at)
       VALUES (?, 'bench', 0, 'done', '{}', ?, ?)`,
  ).run(datasetId, now, now)
  db.pragma('optimize')
  db.close()
  store.close()
  return { datasetId, seconds: (performance.now() - started) / 1000 }
}

function stats(ms: number[]) {
  if (ms.length === 0) throw new Error('stats(): no timings (an empty queue?)')
  const s = [...ms].sort((a, b) => a - b)
  const at = (q: number) => +s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(2)
  return { n: s.length, p50: at(0.5), p95: at(0.95), max: +s[s.length - 1].toFixed(2) }
}

const dir = mkdtempSync(join(tmpdir(), 'frugal-bench-review-'))
const db = join(dir, 'million.frugal')
note(`Building ${N.toLocaleString('en')} documents in ${db}`)
const built = buildProject(db)
note(`Built in ${built.seconds.toFixed(0)} s`)

const backend = createBackend({
  mode: 'serve',
  userDataDir: join(dir, 'home'),
  // No job runs here (retraining is off below), so no worker is ever started.
  spawnWorker: () => {
    throw new Error('the benchmark starts no jobs')
  },
})
backend.ctx.project.openOrCreate(db)
const store = backend.ctx.project.require()
// Decisions must not start a retraining in the middle of the measurement.
store.ruleSets.attach(
  built.datasetId,
  store.ruleSets.save(
    'bench',
    (() => {
      const r = store.ruleSets.forDataset(built.datasetId).rules
      return { ...r, quality: { ...r.quality, retrainEvery: 0 } }
    })(),
    new Date().toISOString(),
  ),
)

async function call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
  const r = (await backend.router.invoke(method, params)) as ApiResult<Result<M>>
  if (!r.ok) throw new Error(`${method}: ${r.error.message}`)
  return r.value
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now()
  const v = await fn()
  return [performance.now() - t0, v]
}

const datasetId = built.datasetId
const uncertain: Queue = { datasetId, source: { kind: 'uncertain' } }

// 1. Opening the screen: the overview (counts over the dataset) and resuming the queue.
const [overviewMs, overview] = await timed(() => call('review.overview', { datasetId }))
const [resumeMs, firstDoc] = await timed(() =>
  call('review.step', { queue: uncertain, direction: 'resume' }),
)
note(`Uncertain queue: ${overview.uncertain.total.toLocaleString('en')} documents`)

// 2. The hot path: decide, saved, and the next undecided document back in one call.
const decide: number[] = []
let doc = firstDoc!
for (let i = 0; i < DECISIONS; i++) {
  const [ms, r] = await timed(() =>
    call('review.decide', {
      documentId: doc.id,
      decision: i % 3 === 0 ? 'remove' : 'keep',
      advance: { queue: uncertain, direction: 'nextUnreviewed' },
    }),
  )
  decide.push(ms)
  doc = r.document!
}

// 3. Moving without deciding, undo and redo, labels.
const move: number[] = []
for (let i = 0; i < 200; i++) {
  const [ms, d] = await timed(() =>
    call('review.step', {
      queue: uncertain,
      from: doc.id,
      direction: i % 4 === 3 ? 'prev' : 'next',
    }),
  )
  move.push(ms)
  doc = d ?? doc
}
const undo: number[] = []
for (let i = 0; i < 50; i++) undo.push((await timed(() => call('review.undo', { datasetId })))[0])
for (let i = 0; i < 50; i++) undo.push((await timed(() => call('review.redo', { datasetId })))[0])
const label = await call('review.saveLabel', {
  datasetId,
  name: 'spam',
  key: '1',
  color: '#dc2626',
})
const labelMs: number[] = []
for (let i = 0; i < 100; i++)
  labelMs.push(
    (await timed(() => call('review.label', { documentId: doc.id, labelId: label.id })))[0],
  )

// 4. Other queues: an audit sample of what was kept, a rule, a search; the virtualized list.
const [sampleMs, sample] = await timed(() =>
  call('review.createSample', { datasetId, of: 'kept', size: 1000, seed: 1 }),
)
const queues: Record<string, Queue> = {
  audit: { datasetId, source: { kind: 'audit', sampleId: sample.id } },
  rule: { datasetId, source: { kind: 'rule', rule: 'gopher_quality' } },
  // Common words (half the documents match) within the uncertain queue, and a rare word
  // (one document in a thousand) over the whole dataset.
  searchCommon: { datasetId, source: { kind: 'uncertain' }, search: 'harbour festival' },
  searchRare: { datasetId, source: { kind: 'all' }, search: 'lighthouse' },
}
const otherQueues: Record<string, ReturnType<typeof stats> & { firstMs: number }> = {}
for (const [name, q] of Object.entries(queues)) {
  const ms: number[] = []
  const [firstMs, firstOfQueue] = await timed(() =>
    call('review.step', { queue: q, direction: 'first' }),
  )
  if (!firstOfQueue) {
    console.error(
      `bench:review: the ${name} queue (${JSON.stringify(q.source)}${q.search ? `, search "${q.search}"` : ''}) is empty; the benchmark needs documents in it.`,
    )
    process.exit(1)
  }
  let d: typeof firstOfQueue | null = firstOfQueue
  for (let i = 0; i < 100 && d; i++) {
    const [t, r] = await timed(() =>
      call('review.decide', {
        documentId: d!.id,
        decision: 'keep',
        advance: { queue: q, direction: 'nextUnreviewed' },
      }),
    )
    ms.push(t)
    d = r.document
  }
  otherQueues[name] = { ...stats(ms), firstMs: +firstMs.toFixed(1) }
}
const list: number[] = []
for (const offset of [0, 100, 5_000, 20_000, Math.max(0, overview.uncertain.total - 100)])
  list.push(
    (await timed(() => call('review.members', { queue: uncertain, offset, limit: 100 })))[0],
  )
const [countsMs] = await timed(() => call('review.counts', { queue: uncertain }))

// 5. The same hot path over HTTP, as the browser reaches it.
const server = await startServer({
  router: backend.router,
  events: backend.ctx.events,
  staticDir: resolve('out/renderer'),
})
const base = `http://127.0.0.1:${server.port}`
const http: number[] = []
for (let i = 0; i < 200; i++) {
  const t0 = performance.now()
  const res = await fetch(`${base}/api/invoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
    body: JSON.stringify({
      method: 'review.decide',
      params: {
        documentId: doc.id,
        decision: 'keep',
        advance: { queue: uncertain, direction: 'nextUnreviewed' },
      },
    }),
  })
  const body = (await res.json()) as ApiResult<{ document: { id: number } | null }>
  http.push(performance.now() - t0)
  if (!body.ok || !body.value.document) throw new Error('the HTTP decision failed')
  doc = body.value.document as typeof doc
}
await server.close()
await backend.shutdown()

const result = {
  benchmark: 'review latency',
  machine: { cpus: cpus().length, model: cpus()[0]?.model.trim(), node: process.version },
  dataset: {
    documents: N,
    uncertain: overview.uncertain.total,
    buildSeconds: +built.seconds.toFixed(1),
  },
  ms: {
    decideAndNext: stats(decide),
    decideAndNextOverHttp: stats(http),
    nextOrPrevious: stats(move),
    undoRedo: stats(undo),
    toggleLabel: stats(labelMs),
    decideAndNextInOtherQueues: otherQueues,
    queueListPage: stats(list),
    openScreen: {
      overview: +overviewMs.toFixed(1),
      resume: +resumeMs.toFixed(1),
      counts: +countsMs.toFixed(1),
    },
    auditSampleOf1000: +sampleMs.toFixed(1),
  },
  target: { decideAndNextP95Ms: 50 },
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
if (args.keep) note(`Kept ${db}`)
else rmSync(dir, { recursive: true, force: true })
