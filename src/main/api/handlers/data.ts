import { existsSync } from 'node:fs'
import type { dataApi } from '../../../shared/api'
import { UserError } from '../../../shared/errors'
import { jobParams, type StartJob } from '../../../shared/jobs'
import { isUpload, removeUpload } from '../../uploads'
import { resolveUserPath } from '../../user-paths'
import type { AppContext } from '../context'
import { datasetJobs } from './dataset-jobs'
import type { GroupHandlers } from '../types'

export function dataHandlers(ctx: AppContext): GroupHandlers<typeof dataApi> {
  const now = () => new Date().toISOString()

  const { dataset, retrain, maybeRetrain } = datasetJobs(ctx)
  const start = (request: StartJob) => ctx.jobs.start(request)

  return {
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
      ctx.project.require()
      const paths = params.paths.map((p, i) => {
        const path = resolveUserPath(p, `paths.${i}`)
        if (!existsSync(path))
          throw new UserError('not_found', `There is no file or folder at ${path}.`, `paths.${i}`)
        return path
      })
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
      return start({ kind: 'data.clean', params: { datasetId } })
    },
    'data.retrain': ({ datasetId }) => retrain(ctx.project.require(), datasetId),
    'data.export': ({ datasetId, status, out, overwrite }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      return start({ kind: 'data.export', params: { datasetId, status, out, overwrite } })
    },
    'data.deleteDataset': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      const request = ctx.jobs.check({ kind: 'data.delete', params: { datasetId } })
      // Gone from every list at once; the documents leave in the background (a large
      // dataset takes a while, and this process must stay responsive).
      store.datasets.markForDeletion(datasetId, now())
      ctx.events.publish('project.changed', store.info())
      return start(request)
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
    'data.decide': ({ documentId, decision, note }) => {
      // Through the review history, so the Review screen can undo it.
      const store = ctx.project.require()
      if (decision !== undefined) store.review.decide(documentId, decision, now())
      if (note !== undefined) store.review.setNote(documentId, note, now())
      const detail = store.documentQueries.detail(documentId)
      if (!detail)
        throw new UserError('not_found', `There is no document ${documentId}.`, 'documentId')
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
}
