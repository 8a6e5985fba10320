import { UserError } from '../../../shared/errors'
import type { JobRecord } from '../../../shared/jobs'
import { jobHoldingDataset } from '../../jobs/preconditions'
import type { Store } from '../../../store'
import type { AppContext } from '../context'

/**
 * What the data and review handlers share about a dataset: that it exists, and the quality
 * model's retraining (on request, and after every `retrainEvery` new decisions). Whether a
 * job may start on it is the job kind's own check (main/jobs/preconditions.ts).
 */
export function datasetJobs(ctx: AppContext) {
  /** The dataset, or a not_found error for the field. */
  const dataset = (store: Store, id: number) => {
    const found = store.datasets.get(id)
    if (!found) throw new UserError('not_found', `There is no dataset with id ${id}.`, 'datasetId')
    return found
  }

  /** That a dataset exists, without counting its documents (for the review's hot path). */
  const requireDataset = (store: Store, id: number): void => {
    if (!store.datasets.exists(id))
      throw new UserError('not_found', `There is no dataset with id ${id}.`, 'datasetId')
  }

  /** A data job running or queued on this dataset, if any. */
  const busyWith = (store: Store, datasetId: number): JobRecord | undefined =>
    jobHoldingDataset({ store, active: ctx.jobs.active() }, datasetId, null)

  /** Retrain now: refits on the current decisions and rescores every document. */
  const retrain = (store: Store, datasetId: number): JobRecord => {
    dataset(store, datasetId)
    if (!store.cleanRuns.lastDone(datasetId))
      throw new UserError(
        'conflict',
        'Clean this dataset first: the model learns from the rules and scores cleaned text.',
        'datasetId',
      )
    return ctx.jobs.start({ kind: 'data.quality', params: { datasetId } })
  }

  /** Retrain once `retrainEvery` labels have changed since the last model, if nothing else runs. */
  const maybeRetrain = (store: Store, datasetId: number): JobRecord | null => {
    const { quality } = store.ruleSets.forDataset(datasetId).rules
    if (!quality.enabled || quality.retrainEvery === 0) return null
    if (!store.cleanRuns.lastDone(datasetId) || busyWith(store, datasetId)) return null
    // Count labels since the last model, or since the last attempt (one may have failed for
    // want of examples): a failed retrain is not retried on every single label.
    const model = store.qualityModels.latest(datasetId)?.createdAt ?? ''
    const attempt =
      ctx.jobs
        .list({ limit: 200 })
        .find(
          (j) =>
            j.kind === 'data.quality' &&
            (j.params as { datasetId: number }).datasetId === datasetId,
        )?.createdAt ?? ''
    const since = model > attempt ? model : attempt
    if (store.decisions.changedSince(datasetId, since || null) < quality.retrainEvery) return null
    return ctx.jobs.start({ kind: 'data.quality', params: { datasetId } })
  }

  return { dataset, requireDataset, retrain, maybeRetrain }
}
