import type { ratingsApi, reviewApi } from '../../../shared/api'
import type { ReviewChange } from '../../../shared/api/review'
import { UserError } from '../../../shared/errors'
import type { Queue, ReviewAction, StepDirection } from '../../../shared/review'
import type { Store } from '../../../store'
import type { AppContext } from '../context'
import type { GroupHandlers } from '../types'
import { datasetJobs } from './dataset-jobs'

/**
 * The review workspace. Every change is saved (synchronously, in one SQLite transaction)
 * before the answer leaves, and a change may ask for the next document in the same
 * round trip, so the reviewer never waits twice.
 */
export function reviewHandlers(ctx: AppContext): GroupHandlers<typeof reviewApi> {
  const now = () => new Date().toISOString()
  const { requireDataset: dataset, retrain, maybeRetrain } = datasetJobs(ctx)

  /** The document to show after moving, with its place saved for resuming. */
  const show = (store: Store, queue: Queue, from: number | null, direction: StepDirection) => {
    const id = store.review.step(queue, from, direction)
    if (id === null) return null
    store.review.savePosition(queue, id, now())
    return store.documentQueries.detail(id)
  }

  /** The document a change touched, or the next one when asked to advance. */
  const answer = (
    store: Store,
    action: ReviewAction | null,
    documentId: number,
    advance?: { queue: Queue; direction: 'next' | 'nextUnreviewed' },
  ): ReviewChange => {
    const datasetId = store.documentQueries.detail(documentId)?.datasetId
    return {
      action,
      document: advance
        ? show(store, advance.queue, documentId, advance.direction)
        : store.documentQueries.detail(documentId),
      retrainJob:
        action?.field === 'decision' && datasetId !== undefined
          ? maybeRetrain(store, datasetId)
          : null,
    }
  }

  const checkQueue = (store: Store, queue: Queue) => {
    dataset(store, queue.datasetId)
    const s = queue.source
    if (s.kind === 'label' && !store.review.label(s.labelId))
      throw new UserError('not_found', `There is no label ${s.labelId}.`, 'queue.source.labelId')
  }

  /** Undo and redo show the document they changed (or nothing for a bulk change). */
  const history = (store: Store, action: ReviewAction | null): ReviewChange => ({
    action,
    document: action?.documentId ? store.documentQueries.detail(action.documentId) : null,
    retrainJob: null,
  })

  return {
    'review.overview': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      const models = store.qualityModels.list(datasetId)
      const { quality } = store.ruleSets.forDataset(datasetId).rules
      const { undo, redo } = store.review.history(datasetId)
      return {
        labels: store.review.labels(datasetId),
        samples: store.review.samples(datasetId),
        rules: store.review.deciders(datasetId),
        uncertain: store.review.counts({ datasetId, source: { kind: 'uncertain' } }),
        progress: store.review.progress(datasetId, new Date()),
        model: { current: models[0] ?? null, previous: models[1] ?? null },
        decisionsSinceModel: store.decisions.changedSince(datasetId, models[0]?.createdAt ?? null),
        retrainEvery: quality.enabled ? quality.retrainEvery : 0,
        undo,
        redo,
        cleaned: store.cleanRuns.lastDone(datasetId) !== null,
      }
    },
    'review.counts': ({ queue }) => {
      const store = ctx.project.require()
      checkQueue(store, queue)
      return store.review.counts(queue)
    },
    'review.members': ({ queue, offset, limit }) => {
      const store = ctx.project.require()
      checkQueue(store, queue)
      return store.review.members(queue, offset, limit)
    },
    'review.step': ({ queue, from, direction }) => {
      const store = ctx.project.require()
      checkQueue(store, queue)
      return show(store, queue, from, direction)
    },
    'review.decide': ({ documentId, decision, advance }) => {
      const store = ctx.project.require()
      const action = store.review.decide(documentId, decision, now())
      return answer(store, action, documentId, advance)
    },
    'review.label': ({ documentId, labelId, on }) => {
      const store = ctx.project.require()
      const value = on ?? !store.review.hasLabel(documentId, labelId)
      return answer(store, store.review.setLabel(documentId, labelId, value, now()), documentId)
    },
    'review.note': ({ documentId, note }) => {
      const store = ctx.project.require()
      return answer(store, store.review.setNote(documentId, note, now()), documentId)
    },
    'review.undo': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      return history(store, store.review.undo(datasetId, now()))
    },
    'review.redo': ({ datasetId }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      return history(store, store.review.redo(datasetId, now()))
    },
    'review.bulkPreview': ({ queue, change }) => {
      const store = ctx.project.require()
      checkQueue(store, queue)
      return {
        changes: store.review.bulkPreview(queue, change),
        total: store.review.counts(queue).total,
      }
    },
    'review.bulk': ({ queue, change }) => {
      const store = ctx.project.require()
      checkQueue(store, queue)
      const action = store.review.bulk(queue, change, now())
      return {
        action,
        document: null,
        retrainJob: action?.field === 'decision' ? maybeRetrain(store, queue.datasetId) : null,
      }
    },
    'review.saveLabel': ({ datasetId, id, name, key, color }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      return store.review.saveLabel(datasetId, { id, name, key, color }, now())
    },
    'review.deleteLabel': ({ id }) => ctx.project.require().review.deleteLabel(id),
    'review.createSample': ({ datasetId, of, size, seed }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      return store.review.createSample(
        datasetId,
        of,
        size,
        seed ?? Math.floor(Math.random() * 2 ** 31),
        now(),
      )
    },
    'review.deleteSample': ({ id }) => ctx.project.require().review.deleteSample(id),
    'review.retrain': ({ datasetId }) => retrain(ctx.project.require(), datasetId),
    'review.export': ({ datasetId, out, overwrite }) => {
      const store = ctx.project.require()
      dataset(store, datasetId)
      return ctx.jobs.start({ kind: 'review.export', params: { datasetId, out, overwrite } })
    },
  }
}

/** Ratings and preferences of model outputs. */
export function ratingsHandlers(ctx: AppContext): GroupHandlers<typeof ratingsApi> {
  const now = () => new Date().toISOString()
  return {
    'ratings.rate': (p) => ctx.project.require().ratings.rate(p, now()),
    'ratings.prefer': (p) => ctx.project.require().ratings.prefer(p, now()),
    'ratings.list': ({ limit, offset }) => {
      const store = ctx.project.require()
      return {
        ratings: store.ratings.ratings(limit, offset),
        preferences: store.ratings.preferences(limit, offset),
      }
    },
    'ratings.winRate': ({ a, b }) => ctx.project.require().ratings.winRate(a, b),
    'ratings.delete': ({ kind, id }) => ctx.project.require().ratings.delete(kind, id),
    'ratings.export': ({ kind, out, overwrite }) => {
      ctx.project.require()
      return ctx.jobs.start({ kind: 'ratings.export', params: { kind, out, overwrite } })
    },
  }
}
