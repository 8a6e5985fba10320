import type { LogisticModel } from '../quality/logistic'
import type { DocumentProcessor } from './pool'
import { processBatch, scoreTexts, type ProcessConfig, type ProcessedDoc } from './process'

type Docs = { id: number; text: string }[]

/** Runs everything on the calling thread: small datasets, and machines with one core. */
export class InlineProcessor implements DocumentProcessor {
  readonly parallelism = 1
  private model: LogisticModel | null = null
  constructor(private readonly config: ProcessConfig) {}

  process(docs: Docs, features: boolean): Promise<ProcessedDoc[]> {
    return Promise.resolve(processBatch(docs, this.config, this.model, features))
  }
  score(docs: Docs): Promise<{ id: number; score: number }[]> {
    return Promise.resolve(this.model ? scoreTexts(docs, this.model) : [])
  }
  setModel(model: LogisticModel | null): void {
    this.model = model
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}
