import type { Store } from '../../../store'
import type { CleanSummary } from '../../../shared/data/types'
import { predict, type LogisticModel } from '../quality/logistic'
import {
  MIN_TRAINING_EXAMPLES,
  RULE_SAMPLE,
  fitQualityModel,
  type TrainingExample,
} from '../quality/training'
import type { CleanDeps } from './clean'
import type { DocumentProcessor } from './pool'
import type { ProcessedDoc } from './process'

/**
 * A cleaning run's quality model, fitted on a sample of the rules' decisions (and on
 * every labelled document) while the main pass already runs. The sample goes to the
 * threads first; once all of it is back the model is fitted on this thread, while the
 * threads work through the main-pass batches queued behind it. Main-pass results that
 * come back before the model are held, then scored here from their features; the
 * sample's own results are written from what the fit used, not processed twice.
 */
export class ModelFit {
  model: LogisticModel | null = null
  info: CleanSummary['model'] = null
  /** Whether the model is fitted (or failed to be, for lack of examples). */
  ready = false
  /** Milliseconds from the start until the model was fitted. */
  ms = 0
  /** The sample's documents: the main pass skips them. */
  sampleIds = new Set<number>()
  private sampled: ProcessedDoc[] = []
  private readonly held: ProcessedDoc[][] = []
  private fitted: Promise<void> = Promise.resolve()
  private failure: Error | null = null
  private readonly started = Date.now()

  /**
   * `write` stores results that carry their scores; `stopped` says whether the run has
   * ended (its results are then dropped).
   */
  constructor(
    private readonly write: (results: ProcessedDoc[]) => void,
    private readonly stopped: () => boolean,
    private readonly batchDocs: number,
  ) {}

  /**
   * Send the sample through the rules (at most a few batches in flight); resolves once
   * all of it is dispatched. The fit runs when its results are all back.
   */
  async start(
    store: Store,
    datasetId: number,
    processor: DocumentProcessor,
    deps: CleanDeps,
  ): Promise<void> {
    const decisions = store.decisions.decided(datasetId)
    const decided = new Map(decisions.map((d) => [d.id, d.decision]))
    const sample = store.documents
      .sampleIds(datasetId, RULE_SAMPLE)
      .filter((id) => !decided.has(id))
    this.sampleIds = new Set(sample)
    // Decided documents, whose number has no bound, are processed again by the main pass.
    const docs = [
      ...decisions.map((d) => ({ id: d.id, text: d.text })),
      ...store.documents.textsByIds(sample),
    ]
    const examples: TrainingExample[] = []
    const processed: ProcessedDoc[] = []
    const batches: Promise<void>[] = []
    const pending: Promise<void>[] = []
    for (let i = 0; i < docs.length; i += this.batchDocs) {
      deps.throwIfCancelled()
      const batch = docs.slice(i, i + this.batchDocs)
      const work = processor.process(batch, true).then((results) => {
        for (const r of results) {
          const decision = decided.get(r.id)
          if (decision)
            examples.push({
              id: r.id,
              x: r.features!,
              y: decision === 'keep' ? 1 : 0,
              source: 'decision',
            })
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
    this.fitted = Promise.all(batches).then(() => {
      if (this.stopped()) return
      // Completion order varies with threads; training must not.
      examples.sort((a, b) => a.id - b.id)
      processed.sort((a, b) => a.id - b.id)
      this.fit(store, datasetId, examples, processor, deps)
      this.sampled = processed
      for (const results of this.held.splice(0)) this.writeScored(results)
    })
    this.fitted.catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err))
    })
  }

  /** A run without the quality model: everything is written as it comes. */
  withoutModel(): void {
    this.ready = true
  }

  /** Main-pass results: written now, or held until the model can score them. */
  accept(results: ProcessedDoc[]): void {
    if (this.ready) this.writeScored(results)
    else this.held.push(results)
  }

  /** Write the next batch of the sample's results, if the model has scored them. */
  writeSampled(): void {
    if (this.sampled.length > 0) this.writeScored(this.sampled.splice(0, this.batchDocs))
  }

  /** The fit's error, if it failed, thrown into the main pass. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure
  }

  /** Wait for the fit, then write the rest of the sample's results. */
  async finish(deps: CleanDeps): Promise<void> {
    await this.fitted
    while (this.sampled.length > 0) {
      deps.throwIfCancelled()
      this.writeSampled()
    }
  }

  private fit(
    store: Store,
    datasetId: number,
    examples: TrainingExample[],
    processor: DocumentProcessor,
    deps: CleanDeps,
  ): void {
    const now = (deps.now ?? (() => new Date()))().toISOString()
    const fitted = fitQualityModel(store, datasetId, examples, now)
    if (fitted) {
      this.model = fitted.model
      this.info = fitted.info
      processor.setModel(fitted.model)
      deps.log(
        'info',
        `Quality model: held-out accuracy ${fitted.info.holdoutAccuracy ?? 'n/a'} on ${fitted.info.holdout} documents.`,
      )
    } else
      deps.log(
        'warn',
        `Quality model not trained: it needs at least ${MIN_TRAINING_EXAMPLES} examples of both keep and remove (your decisions, or documents the rules decided).`,
      )
    this.ready = true
    this.ms = Date.now() - this.started
  }

  /** Score the results the threads returned before they had the model, then write them. */
  private writeScored(results: ProcessedDoc[]): void {
    for (const r of results) {
      if (r.score === null && this.model && r.features) r.score = predict(this.model, r.features)
      r.features = null
    }
    this.write(results)
  }
}
