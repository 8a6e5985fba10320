import { existsSync } from 'node:fs'
import type { dataApi } from '../../../shared/api'
import { UserError } from '../../../shared/errors'
import { jobParams, type JobRecord, type StartJob } from '../../../shared/jobs'
import type { Store } from '../../../store'
import { isUpload, removeUpload } from '../../uploads'
import { checkNewFile, resolveUserPath } from '../../user-paths'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'

const dataKinds = new Set(['data.import', 'data.clean', 'data.quality', 'data.export'])

export function dataHandlers(ctx: AppContext): GroupHandlers<typeof dataApi> {
  const now = () => new Date().toISOString()

  /** The dataset, or a not_found error for the field. */
  const dataset = (store: Store, id: number) => {
    const found = store.datasets.get(id)
    if (!found) throw new UserError('not_found', `There is no dataset with id ${id}.`, 'datasetId')
    return found
  }

  /** A data job running or queued on this dataset, if any. */
  const busyWith = (store: Store, datasetId: number): JobRecord | undefined => {
    const name = store.datasets.get(datasetId)?.name
    return ctx.jobs.active().find((j) => {
      if (!dataKinds.has(j.kind)) return false
      const p = j.params as { datasetId?: number; dataset?: string }
      return p.datasetId === datasetId || (name !== undefined && p.dataset === name)
    })
  }
  const requireIdle = (store: Store, datasetId: number) => {
    const job = busyWith(store, datasetId)
    if (job)
      throw new UserError(
        'conflict',
        `This dataset is busy (${job.kind.replace('data.', '')} in progress). Wait for it or cancel it.`,
        'datasetId',
      )
  }
  const start = (request: StartJob) => ctx.jobs.start(request)

  return {
    'data.datasets': () => ctx.project.current()?.dataStats.summaries() ?? [],
    'data.stats': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      return store.dataStats.stats(datasetId)
    },
    'data.imports': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      return store.imports.reports(datasetId)
    },
    'data.import': (params) => {
      const store = ctx.project.require()
      const paths = params.paths.map((p, i) => {
        const path = resolveUserPath(p, `paths.${i}`)
        if (!existsSync(path))
          throw new UserError('not_found', `There is no file or folder at ${path}.`, `paths.${i}`)
        return path
      })
      const existing = store.datasets.byName(params.dataset)
      if (existing) requireIdle(store, existing.id)
      if (
        ctx.jobs
          .active()
          .some(
            (j) =>
              j.kind === 'data.import' &&
              (j.params as { dataset: string }).dataset === params.dataset,
          )
      )
        throw new UserError(
          'conflict',
          `An import into "${params.dataset}" is already running.`,
          'dataset',
        )
      const job = start({
        kind: 'data.import',
        params: jobParams['data.import'].parse({ ...params, paths }),
      })
      // Uploaded copies are only needed by this import.
      const uploads = paths.filter((p) => isUpload(ctx.userDataDir, p))
      if (uploads.length)
        void ctx.jobs
          .waitFor(job.id)
          .then(() => uploads.forEach((p) => removeUpload(ctx.userDataDir, p)))
      return job
    },
    'data.clean': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      requireIdle(store, datasetId)
      return start({ kind: 'data.clean', params: { datasetId } })
    },
    'data.retrain': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      requireIdle(store, datasetId)
      if (!store.cleanRuns.lastDone(datasetId))
        throw new UserError(
          'conflict',
          'Clean this dataset first: the model learns from the rules and scores cleaned text.',
          'datasetId',
        )
      return start({ kind: 'data.quality', params: { datasetId } })
    },
    'data.export': ({ datasetId, status, out, overwrite }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      const target = checkNewFile(out, 'out', { extension: '.jsonl', overwrite })
      return start({ kind: 'data.export', params: { datasetId, status, out: target, overwrite } })
    },
    'data.deleteDataset': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      requireIdle(store, datasetId)
      store.db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId)
      ctx.events.publish('project.changed', store.info())
    },
    'data.documents': ({ sort, offset, limit, ...filter }) => {
      const store = ctx.project.require()
      dataset(store, filter.datasetId)
      return store.documentQueries.list(filter, sort, offset, limit)
    },
    'data.document': ({ id }) => {
      const doc = ctx.project.require().documentQueries.detail(id)
      if (!doc) throw new UserError('not_found', `There is no document ${id}.`, 'id')
      return doc
    },
    'data.label': ({ documentId, decision, note, tags }) => {
      const store = ctx.project.require()
      store.labels.set(
        documentId,
        {
          ...(decision !== undefined ? { decision } : {}),
          ...(note !== undefined ? { note } : {}),
          ...(tags !== undefined ? { tags } : {}),
        },
        now(),
      )
      const detail = store.documentQueries.detail(documentId)!
      return { document: detail, retrainJob: maybeRetrain(store, detail.datasetId) }
    },
    'data.rules': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      const { ruleSetId, rules } = store.ruleSets.forDataset(datasetId)
      return {
        ruleSetId,
        name: ruleSetId ? (store.ruleSets.get(ruleSetId)?.name ?? null) : null,
        rules,
      }
    },
    'data.ruleSets': () => ctx.project.current()?.ruleSets.list() ?? [],
    'data.saveRules': ({ datasetId, name, rules }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      const id = store.ruleSets.save(name, rules, now())
      store.ruleSets.attach(datasetId, id)
      const saved = store.ruleSets.get(id)!
      return { id: saved.id, name: saved.name, updatedAt: saved.updatedAt }
    },
    'data.useRules': ({ datasetId, ruleSetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      if (ruleSetId !== null && !store.ruleSets.get(ruleSetId))
        throw new UserError('not_found', `There is no rule set ${ruleSetId}.`, 'ruleSetId')
      store.ruleSets.attach(datasetId, ruleSetId)
    },
  }

  /** Retrain once `retrainEvery` labels have changed since the last model, if nothing else runs. */
  function maybeRetrain(store: Store, datasetId: number): JobRecord | null {
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
    if (store.labels.changedSince(datasetId, since || null) < quality.retrainEvery) return null
    return start({ kind: 'data.quality', params: { datasetId } })
  }
}
