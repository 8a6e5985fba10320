import { initial } from './001_initial'
import { dataPipeline } from './002_data_pipeline'
import { training } from './003_training'
import { review } from './004_review'
import { evals } from './005_evals'
import { teacherCaches } from './006_teacher_caches'
import { cheaperDocumentWrites } from './007_cheaper_document_writes'
import { curriculumScores } from './008_curriculum_scores'
import { datasetDeletions } from './009_dataset_deletions'
import { referenceLogprobs } from './010_reference_logprobs'
import { runReferences } from './011_run_references'
import { decisionNaming } from './012_decision_naming'
import type { Migration } from './types'

/** Every migration, in order. Append; never reorder or edit a shipped one. */
export const migrations: readonly Migration[] = [
  initial,
  dataPipeline,
  training,
  review,
  evals,
  teacherCaches,
  cheaperDocumentWrites,
  curriculumScores,
  datasetDeletions,
  referenceLogprobs,
  runReferences,
  decisionNaming,
]

export const latestSchemaVersion = migrations.length
export type { Migration }
