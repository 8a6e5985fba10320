import { availableParallelism } from 'node:os'
import type { Store } from '../../../store'
import type { CleanedDocument, ClusterRow } from '../../../store/repos/documents'
import type { RuleSet } from '../../../shared/data/rules'
import type { CleanSummary, RuleOutcome } from '../../../shared/data/types'
import { UserError } from '../../../shared/errors'
import type { JobProgress } from '../../../shared/jobs'
import { DedupIndex } from '../dedup/cluster'
import { isProcessAlive } from '../../../store/process-alive'
import { predict, type LogisticModel } from '../quality/logistic'
import {
  MIN_TRAINING_EXAMPLES,
  RULE_SAMPLE,
  fitQualityModel,
  type TrainingExample,
} from '../quality/training'
import { round } from '../text/view'
import { qualityVerdict } from './decide'
import { ThreadPool, type DocumentProcessor } from './pool'
import type { ProcessedDoc } from './process'
import { writeTransaction } from '../../../store/database'
import {
  dropScoreIndexes,
  ensureScoreIndexes,
  missingScoreIndexes,
} from '../../../store/score-indexes'

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
  const ds = store.db
    .prepare<[number], { state: string }>('SELECT state FROM datasets WHERE id = ?')
    .get(datasetId)
  if (!ds)
    throw new UserError('not_found', `There is no dataset with id ${datasetId}.`, 'datasetId')
  if (ds.state !== 'ready' || store.imports.running(datasetId))
    throw new UserError('conflict', 'This dataset is still being imported.', 'datasetId')
  if (store.cleanRuns.running(datasetId))
    throw new UserError('conflict', 'This dataset is already being cleaned.', 'datasetId')
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
 * on the reviewer's labels, (2) run every document through the rules, fingerprint and
 * score it, in worker threads, writing results batch by batch, (3) cluster duplicates
 * and keep one per cluster. Re-running with the same rules and labels gives the same
 * result: everything starts again from the original text, and training is seeded.
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
    ? new DedupIndex(store.db, {
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
      dropScoreIndexes(store.db)
    const totalChars = store.documents.characters(datasetId)
    let doneChars = 0
    // The sample's documents, met in the main pass's pages and skipped there (processed
    // before anything else, so counted as done in every progress report).
    let sampleChars = 0
    let sampleDocs = 0
    let done = 0
    const write = (results: ProcessedDoc[]) => {
      if (stopped) return
      const rows = results.map((r) => toCleaned(r, model !== null, rules))
      writeTransaction(store.db, () => {
        store.documents.writeCleaned(rows)
        if (dedup)
          for (const r of results)
            if (r.action !== 'remove' && r.contentHash) dedup.add(r.id, r.contentHash, r.signature)
      })
    }
    /** Write results, scoring here those the threads returned before they had the model. */
    const writeScored = (results: ProcessedDoc[]) => {
      for (const r of results) {
        if (r.score === null && model && r.features) r.score = predict(model, r.features)
        r.features = null
      }
      write(results)
    }

    // 1. The quality model, fitted on a sample of the rules' decisions (and on every
    // labelled document) before it scores anything. The main pass does not wait for it:
    // results that come back before the fit are held, and scored here from their
    // features once it is done; the threads work through the batches queued for them
    // meanwhile.
    let model: LogisticModel | null = null
    let modelInfo: CleanSummary['model'] = null
    let modelReady = !rules.quality.enabled
    let trainMs = 0
    const trainStart = Date.now()
    // The sample's results: written from these once scored, not processed twice.
    let sampled: ProcessedDoc[] = []
    const unscored: ProcessedDoc[][] = []
    let sampleIds = new Set<number>()
    let training: Promise<void> = Promise.resolve()
    // Set by the fit's callback; an object, since a closure's writes escape narrowing.
    const trainingFailure: { error: Error | null } = { error: null }
    if (rules.quality.enabled) {
      deps.progress({
        done: 0,
        total: null,
        unit: 'documents',
        message: 'Training the quality model',
      })
      const sample = await dispatchSample(store, datasetId, processor, deps)
      sampleIds = sample.ids
      training = sample.done.then(({ examples, processed }) => {
        if (stopped) return
        const fitted = fitQualityModel(store, datasetId, examples, now())
        if (fitted) {
          model = fitted.model
          modelInfo = fitted.info
          processor?.setModel(model)
          deps.log(
            'info',
            `Quality model: held-out accuracy ${fitted.info.holdoutAccuracy ?? 'n/a'} on ${fitted.info.holdout} documents.`,
          )
        } else
          deps.log(
            'warn',
            `Quality model not trained: it needs at least ${MIN_TRAINING_EXAMPLES} examples of both keep and remove (labels, or documents the rules decided).`,
          )
        modelReady = true
        trainMs = Date.now() - trainStart
        sampled = processed
        for (const results of unscored.splice(0)) writeScored(results)
      })
      training.catch((err: unknown) => {
        trainingFailure.error ??= err instanceof Error ? err : new Error(String(err))
      })
    }

    // 2. Rules, fingerprints and scores, batches in flight on the threads. Until the
    // model exists, more batches are kept in flight so that the threads have work
    // queued while this thread fits it.
    const rulesStart = Date.now()
    // The sample's results are written a batch at a time between dispatches of the main
    // pass, while the threads work, rather than all first while they wait.
    const writeSampled = () => writeScored(sampled.splice(0, BATCH_DOCS))
    const inFlight: Promise<void>[] = []
    let lastProgress = 0
    for (const page of store.documents.texts(datasetId, BATCH_DOCS)) {
      deps.throwIfCancelled()
      if (trainingFailure.error) throw trainingFailure.error
      const batch: typeof page = []
      for (const d of page)
        if (!sampleIds.has(d.id)) batch.push(d)
        else {
          sampleChars += d.text.length
          sampleDocs++
        }
      if (batch.length === 0) continue
      const chars = batch.reduce((n, d) => n + d.text.length, 0)
      const work = processor.process(batch, !modelReady).then((results) => {
        if (modelReady) writeScored(results)
        else unscored.push(results)
        doneChars += chars
        done += results.length
      })
      // Awaited below; this only keeps a failure among several in flight from going unhandled.
      work.catch(() => undefined)
      inFlight.push(work)
      if (sampled.length > 0) writeSampled()
      const limit = modelReady ? processor.parallelism : processor.parallelism * 3
      while (inFlight.length >= limit) await inFlight.shift()
      // Until the model is fitted the threads work on its sample first, and the job
      // still says "Training the quality model".
      if (modelReady && Date.now() - lastProgress > 200) {
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
    await training
    while (sampled.length > 0) {
      deps.throwIfCancelled()
      writeSampled()
    }
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
      for (let i = 0; i < rows.length; i += CLUSTER_ROWS) {
        deps.throwIfCancelled()
        store.documents.writeClusterRows(rows.slice(i, i + CLUSTER_ROWS))
      }
      clusters = found.length
      deps.progress({
        done: clusters,
        total: clusters,
        unit: 'clusters',
        message: 'Finding duplicates',
      })
    }
    const dedupMs = Date.now() - dedupStart
    restoreScoreIndexes(store, runId, deps)

    const summary: CleanSummary = {
      ...countOutcomes(store, datasetId),
      duplicateClusters: clusters,
      timings: { train: trainMs, rules: rulesMs, dedup: dedupMs, total: Date.now() - started },
      characters: totalChars,
      model: modelInfo,
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
  if (store.cleanRuns.othersRunning(runId) || missingScoreIndexes(store.db).length === 0) return
  deps.progress({ done: 0, total: null, unit: 'documents', message: 'Indexing quality scores' })
  ensureScoreIndexes(store.db)
}

/**
 * Send a sample (plus every labelled document) through the rules, for fitting the
 * model on their outcomes. Resolves once every batch is dispatched (at most a few in
 * flight at a time), with the sample's ids and a promise of the examples and of the
 * sample's results (at most RULE_SAMPLE documents, features included) so the main
 * pass need not run them again; labelled documents, whose number has no bound, are
 * processed again there.
 */
async function dispatchSample(
  store: Store,
  datasetId: number,
  processor: DocumentProcessor,
  deps: CleanDeps,
): Promise<{
  ids: Set<number>
  done: Promise<{ examples: TrainingExample[]; processed: ProcessedDoc[] }>
}> {
  const labels = store.labels.verdicts(datasetId)
  const labelled = new Map(labels.map((l) => [l.id, l.decision]))
  const sample = store.documents.sampleIds(datasetId, RULE_SAMPLE).filter((id) => !labelled.has(id))
  const docs = [
    ...labels.map((l) => ({ id: l.id, text: l.text })),
    ...store.documents.textsByIds(sample),
  ]
  const examples: TrainingExample[] = []
  const processed: ProcessedDoc[] = []
  const batches: Promise<void>[] = []
  const pending: Promise<void>[] = []
  for (let i = 0; i < docs.length; i += BATCH_DOCS) {
    deps.throwIfCancelled()
    const work = processor.process(docs.slice(i, i + BATCH_DOCS), true).then((results) => {
      for (const r of results) {
        const label = labelled.get(r.id)
        if (label)
          examples.push({ id: r.id, x: r.features!, y: label === 'keep' ? 1 : 0, source: 'label' })
        else {
          processed.push(r)
          if (r.action !== 'review')
            examples.push({
              id: r.id,
              x: r.features!,
              y: r.action === 'remove' ? 0 : 1,
              source: 'rules',
            })
        }
      }
    })
    work.catch(() => undefined)
    batches.push(work)
    pending.push(work)
    if (pending.length >= processor.parallelism * 2) await pending.shift()
  }
  const done = Promise.all(batches).then(() => {
    // Completion order varies with threads; training must not.
    examples.sort((a, b) => a.id - b.id)
    processed.sort((a, b) => a.id - b.id)
    return { examples, processed }
  })
  return { ids: new Set(sample), done }
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
  const rows = store.db
    .prepare<[number], { status: string; modified: number; n: number }>(
      `SELECT status, modified, COUNT(*) AS n FROM documents WHERE dataset_id = ? GROUP BY status, modified`,
    )
    .all(datasetId)
  const count = (pred: (r: (typeof rows)[number]) => boolean) =>
    rows.filter(pred).reduce((n, r) => n + r.n, 0)
  const byRule = Object.fromEntries(
    store.db
      .prepare<[number], { rule: string; n: number }>(
        `SELECT decision_rule AS rule, COUNT(*) AS n FROM documents WHERE dataset_id = ?
           AND decision_rule IS NOT NULL AND auto_status IN ('removed', 'review')
         GROUP BY decision_rule ORDER BY n DESC`,
      )
      .all(datasetId)
      .map((r) => [r.rule, r.n]),
  )
  return {
    kept: count((r) => r.status === 'kept' && r.modified === 0),
    modified: count((r) => r.status === 'kept' && r.modified === 1),
    removed: count((r) => r.status === 'removed'),
    review: count((r) => r.status === 'review'),
    documents: count(() => true),
    byRule,
  }
}
