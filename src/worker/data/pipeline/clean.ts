import { availableParallelism } from 'node:os'
import type { Store } from '../../../store'
import type { CleanedDocument, ClusterRow } from '../../../store/repos/documents'
import type { RuleSet } from '../../../shared/data/rules'
import type { CleanSummary, RuleOutcome } from '../../../shared/data/types'
import { UserError } from '../../../shared/errors'
import { structuredDocument } from '../../../shared/structured-document'
import type { JobProgress } from '../../../shared/jobs'
import { DedupIndex } from '../dedup/cluster'
import { isProcessAlive } from '../../../store/process-alive'
import { round } from '../text/view'
import { qualityVerdict } from './decide'
import { ModelFit } from './model-fit'
import { ThreadPool, type DocumentProcessor } from './pool'
import type { ProcessedDoc } from './process'

export interface CleanDeps {
  store: Store
  jobId: string
  signal: AbortSignal
  progress: (p: JobProgress) => void
  log: (level: 'info' | 'warn' | 'error', message: string) => void
  throwIfCancelled: () => void
  /** Worker threads for the rules; default: one per core. 0 runs them on this thread. */
  threads?: number
  now?: () => Date
}

/** Documents per batch sent to a thread, and the text size that also ends a batch. */
const BATCH_DOCS = 256
/** Cluster members written per transaction (in id order). */
const CLUSTER_ROWS = 10_000
/** Below this much text, starting threads costs more than it saves. */
const THREADS_MIN_CHARS = 4 * 1024 * 1024
/**
 * A run over at least this many documents, and at least half the project's, writes its
 * results without the score indexes and builds them again after (store/score-indexes.ts).
 * Building them sorts every document of the project, so a small dataset beside a large
 * one keeps them: its few random inserts cost less.
 */
const SET_ASIDE_INDEXES_MIN_DOCS = 10_000

/** Open a dataset for cleaning: it must exist, be imported, and not be busy. */
export function checkCleanable(store: Store, datasetId: number): void {
  const now = new Date().toISOString()
  store.imports.abandonOrphans(isProcessAlive)
  store.cleanRuns.failOrphans(isProcessAlive, now)
  const state = store.datasets.state(datasetId)
  if (state === null)
    throw new UserError('not_found', `There is no dataset with id ${datasetId}.`, 'datasetId')
  if (state !== 'ready' || store.imports.running(datasetId))
    throw new UserError('conflict', 'This dataset is still being imported.', 'datasetId')
  if (store.cleanRuns.running(datasetId))
    throw new UserError('conflict', 'This dataset is already being cleaned.', 'datasetId')
  // Conversations and preference pairs are stored as JSON records; rules written for
  // prose would cut or drop them (a sample of the documents decides).
  const sample = store.documents.textsByIds(store.documents.sampleIds(datasetId, 20))
  const structured = sample.filter((d) => structuredDocument(d.text) !== null).length
  if (sample.length > 0 && structured * 2 > sample.length)
    throw new UserError(
      'invalid_params',
      'This dataset holds conversations or preference pairs for fine-tuning: the cleaning rules are written for prose and would break their records. Train on it as it is (a run reports the records it cannot use).',
      'datasetId',
    )
}

/**
 * Worker threads for large datasets, this thread for small ones. The in-thread processor
 * is imported only when used: it loads the language model, which a job that runs
 * threads should not also hold in its main thread.
 */
export async function makeProcessor(
  store: Store,
  datasetId: number,
  rules: RuleSet,
  threads?: number,
): Promise<DocumentProcessor> {
  const config = { rules: rules.rules, dedup: rules.dedup }
  const count =
    threads ??
    (store.documents.characters(datasetId) < THREADS_MIN_CHARS ? 0 : availableParallelism())
  if (count > 0) return new ThreadPool(count, config)
  const { InlineProcessor } = await import('./inline')
  return new InlineProcessor(config)
}

/**
 * Clean a dataset: (1) fit the quality model on a sample of the rules' decisions and
 * on the reviewer's decisions, (2) run every document through the rules, fingerprint and
 * score it, in worker threads, writing results batch by batch (starting while (1) is
 * still fitting), (3) cluster duplicates and keep one per cluster. Re-running with the
 * same rules and decisions gives the same result: everything starts again from the original
 * text, and training is seeded.
 */
export async function runClean(
  datasetId: number,
  rules: RuleSet,
  deps: CleanDeps,
): Promise<CleanSummary & { datasetId: number }> {
  const { store } = deps
  const now = () => (deps.now ?? (() => new Date()))().toISOString()
  checkCleanable(store, datasetId)
  const started = Date.now()
  const runId = store.cleanRuns.begin(datasetId, deps.jobId, process.pid, rules, now())
  const dedupOn = rules.dedup.exact.enabled || rules.dedup.near.enabled
  const dedup = dedupOn
    ? new DedupIndex(store.dedupCandidates(rules.dedup.near.bands), {
        exact: rules.dedup.exact.enabled,
        near: rules.dedup.near.enabled,
        bands: rules.dedup.near.bands,
        rows: rules.dedup.near.rows,
        minSimilarity: rules.dedup.near.minSimilarity,
      })
    : null
  let stopped = false
  let processor: DocumentProcessor | null = null
  try {
    processor = await makeProcessor(store, datasetId, rules, deps.threads)
    const documents = store.documents.count(datasetId)
    if (documents >= SET_ASIDE_INDEXES_MIN_DOCS && documents * 2 >= store.documents.countAll())
      store.scoreIndexes.drop()
    const totalChars = store.documents.characters(datasetId)
    let doneChars = 0
    // The sample's documents, met in the main pass's pages and skipped there (processed
    // before anything else, so counted as done in every progress report).
    let sampleChars = 0
    let sampleDocs = 0
    let done = 0
    const write = (results: ProcessedDoc[]) => {
      if (stopped) return
      const rows = results.map((r) => toCleaned(r, fit.model !== null, rules))
      store.write(() => {
        store.documents.writeCleaned(rows)
        if (dedup)
          for (const r of results)
            if (r.action !== 'remove' && r.contentHash) dedup.add(r.id, r.contentHash, r.signature)
      })
    }

    // 1. The quality model (model-fit.ts): its sample goes to the threads first, and the
    // main pass follows without waiting for the fit.
    const fit = new ModelFit(write, () => stopped, BATCH_DOCS)
    if (rules.quality.enabled) {
      deps.progress({
        done: 0,
        total: null,
        unit: 'documents',
        message: 'Training the quality model',
      })
      await fit.start(store, datasetId, processor, deps)
    } else fit.withoutModel()

    // 2. Rules, fingerprints and scores, batches in flight on the threads. Until the
    // model exists, more batches are kept in flight so that the threads have work
    // queued while this thread fits it.
    const rulesStart = Date.now()
    const inFlight: Promise<void>[] = []
    let lastProgress = 0
    for (const page of store.documents.texts(datasetId, BATCH_DOCS)) {
      deps.throwIfCancelled()
      fit.throwIfFailed()
      const batch: typeof page = []
      for (const d of page)
        if (!fit.sampleIds.has(d.id)) batch.push(d)
        else {
          sampleChars += d.text.length
          sampleDocs++
        }
      if (batch.length === 0) continue
      const chars = batch.reduce((n, d) => n + d.text.length, 0)
      const work = processor.process(batch, !fit.ready).then((results) => {
        fit.accept(results)
        doneChars += chars
        done += results.length
      })
      // Awaited below; this only keeps a failure among several in flight from going unhandled.
      work.catch(() => undefined)
      inFlight.push(work)
      // The sample's results are written a batch at a time between dispatches, while
      // the threads work, rather than all at the end.
      fit.writeSampled()
      const limit = fit.ready ? processor.parallelism : processor.parallelism * 3
      while (inFlight.length >= limit) await inFlight.shift()
      // Until the model is fitted the threads work on its sample first, and the job
      // still says "Training the quality model".
      if (fit.ready && Date.now() - lastProgress > 200) {
        lastProgress = Date.now()
        deps.progress({
          done: doneChars + sampleChars,
          total: totalChars,
          unit: 'characters',
          message: 'Cleaning',
          metrics: { documents: done + sampleDocs },
        })
      }
    }
    await fit.finish(deps)
    await Promise.all(inFlight)
    // The threads' heaps (each with a language model) are not needed for clustering.
    await processor.close()
    processor = null
    const rulesMs = Date.now() - rulesStart

    // 3. Duplicate clusters.
    const dedupStart = Date.now()
    let clusters = 0
    if (dedup) {
      deps.progress({ done: 0, total: null, unit: 'clusters', message: 'Finding duplicates' })
      const found = dedup.clusters(deps.throwIfCancelled)
      // Every member of every cluster in id order, so that each page of the table is
      // written about once; a transaction per CLUSTER_ROWS rows keeps the WAL bounded.
      const rows: ClusterRow[] = []
      for (const c of found) {
        rows.push({ id: c.keep, cluster: c.keep, duplicate: null })
        for (const d of c.duplicates) {
          const similarity = round(d.similarity)
          const outcome = duplicateOutcome(d, c.keep, rules)
          rows.push({ id: d.id, cluster: c.keep, duplicate: { similarity, outcome } })
        }
      }
      rows.sort((a, b) => a.id - b.id)
      clusters = found.length
      // Writing is half of this phase on a large dataset: say how far it is.
      for (let i = 0; i < rows.length; i += CLUSTER_ROWS) {
        deps.throwIfCancelled()
        deps.progress({
          done: i,
          total: rows.length,
          unit: 'documents',
          message: 'Marking duplicates',
        })
        store.documents.writeClusterRows(rows.slice(i, i + CLUSTER_ROWS))
      }
      deps.progress({
        done: rows.length,
        total: rows.length,
        unit: 'documents',
        message: 'Marking duplicates',
      })
    }
    const dedupMs = Date.now() - dedupStart
    restoreScoreIndexes(store, runId, deps)

    const summary: CleanSummary = {
      ...countOutcomes(store, datasetId),
      duplicateClusters: clusters,
      timings: { train: fit.ms, rules: rulesMs, dedup: dedupMs, total: Date.now() - started },
      characters: totalChars,
      model: fit.info,
    }
    store.cleanRuns.finish(runId, 'done', summary, now())
    return { ...summary, datasetId }
  } catch (err) {
    stopped = true
    store.cleanRuns.finish(runId, deps.signal.aborted ? 'cancelled' : 'failed', null, now())
    try {
      restoreScoreIndexes(store, runId, deps)
    } catch {
      // The run's own error is the one to report; the next clean or opening rebuilds them.
    }
    throw err
  } finally {
    dedup?.dispose()
    await processor?.close()
  }
}

/** Build the score indexes again, unless another cleaning run is still writing without them. */
function restoreScoreIndexes(store: Store, runId: number, deps: CleanDeps): void {
  if (store.cleanRuns.othersRunning(runId) || store.scoreIndexes.missing().length === 0) return
  deps.progress({ done: 0, total: null, unit: 'documents', message: 'Indexing quality scores' })
  store.scoreIndexes.ensure()
}

/** A processed document as written: the rules' verdict, then the quality model's part. */
function toCleaned(r: ProcessedDoc, scored: boolean, rules: RuleSet): CleanedDocument {
  let status: CleanedDocument['autoStatus'] =
    r.action === 'remove' ? 'removed' : r.action === 'review' ? 'review' : 'kept'
  let decidedBy: CleanedDocument['decidedBy'] = 'rules'
  let decisionRule: CleanedDocument['decisionRule'] = r.decisionRule
  let reasons = r.reasons
  if (scored && r.score !== null) {
    const verdict = qualityVerdict(r.score, r.action === 'keep', rules.quality)
    reasons = appendOutcome(reasons, verdict.outcome)
    if (verdict.decides && verdict.status) {
      status = verdict.status
      decidedBy = 'model'
      decisionRule = 'quality'
    }
  }
  return {
    id: r.id,
    cleanedText: r.cleaned,
    autoStatus: status,
    decidedBy,
    decisionRule,
    modified: r.modified,
    reasons,
    redactions: r.redactions,
    language: r.language,
    languageScore: r.languageScore,
    qualityScore: r.score === null ? null : round(r.score),
    charCount: r.charCount,
    tokenEstimate: r.tokenEstimate,
    contentHash: r.contentHash,
  }
}

/** A JSON array of outcomes with one more at its end. */
function appendOutcome(json: string, outcome: RuleOutcome): string {
  const item = JSON.stringify(outcome)
  return json === '[]' ? `[${item}]` : `${json.slice(0, -1)},${item}]`
}

function duplicateOutcome(
  d: { id: number; kind: 'exact' | 'near'; similarity: number },
  keep: number,
  rules: RuleSet,
): RuleOutcome {
  const similarity = round(d.similarity)
  return d.kind === 'exact'
    ? {
        rule: 'dedup_exact',
        action: 'remove',
        check: 'normalized_hash',
        value: 'identical',
        threshold: 'identical',
        measures: { cluster: keep, similarity: 1 },
        note: `Same normalized text as document #${keep}, which is kept.`,
      }
    : {
        rule: 'dedup_near',
        action: 'remove',
        check: 'estimated_jaccard',
        value: similarity,
        threshold: rules.dedup.near.minSimilarity,
        measures: { cluster: keep, similarity },
        note: `Near duplicate of document #${keep} (estimated Jaccard similarity ${similarity} of word ${rules.dedup.near.shingleWords}-grams); #${keep} is kept.`,
      }
}

/** Final counts: kept unchanged, kept modified, removed, review, and deciders. */
export function countOutcomes(
  store: Store,
  datasetId: number,
): Pick<CleanSummary, 'kept' | 'modified' | 'removed' | 'review' | 'documents' | 'byRule'> {
  const { byStatus: rows, byRule } = store.documents.outcomeCounts(datasetId)
  const count = (pred: (r: (typeof rows)[number]) => boolean) =>
    rows.filter(pred).reduce((n, r) => n + r.n, 0)
  return {
    kept: count((r) => r.status === 'kept' && r.modified === 0),
    modified: count((r) => r.status === 'kept' && r.modified === 1),
    removed: count((r) => r.status === 'removed'),
    review: count((r) => r.status === 'review'),
    documents: count(() => true),
    byRule: Object.fromEntries(byRule.map((r) => [r.rule, r.n])),
  }
}
