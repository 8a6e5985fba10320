import type { JobKind } from '../../shared/jobs'
import type { JobHandler } from '../context'
import { backendBenchmark } from './backend-benchmark'
import { backendProbe } from './backend-probe'
import { dataClean } from './data-clean'
import { dataDelete } from './data-delete'
import { dataExport } from './data-export'
import { dataImport } from './data-import'
import { dataQuality } from './data-quality'
import { datasetCount } from './dataset-count'
import { integrityCheck } from './integrity-check'
import {
  evalMc,
  evalPerplexity,
  modelExport,
  modelGenerate,
  modelImport,
  modelInspect,
  modelScore,
} from './model-jobs'
import { ratingsExport, reviewExport } from './review-export'
import { tokenizerTrain } from './tokenizer-train'
import { tokensEncode } from './tokens-encode'
import { trainRunJob } from './train-run'
import { trainCalibrate } from './train-calibrate'

/** Every job kind's implementation; the compiler checks none is missing. */
export const jobHandlers: { [K in JobKind]: JobHandler<K> } = {
  'backend.probe': backendProbe,
  'backend.benchmark': backendBenchmark,
  'dataset.count': datasetCount,
  'project.integrityCheck': integrityCheck,
  'data.import': dataImport,
  'data.clean': dataClean,
  'data.quality': dataQuality,
  'data.export': dataExport,
  'data.delete': dataDelete,
  'tokenizer.train': tokenizerTrain,
  'tokens.encode': tokensEncode,
  'train.calibrate': trainCalibrate,
  'train.run': trainRunJob,
  'review.export': reviewExport,
  'ratings.export': ratingsExport,
  'model.export': modelExport,
  'eval.perplexity': evalPerplexity,
  'eval.mc': evalMc,
  'model.generate': modelGenerate,
  'model.inspect': modelInspect,
  'model.score': modelScore,
  'model.import': modelImport,
}
