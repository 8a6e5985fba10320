import { useQueryClient } from '@tanstack/react-query'
import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiCallError, call, useTransport } from '../../api/client'
import type { ReviewChange } from '../../../../shared/api/review'
import type { JobRecord } from '../../../../shared/jobs'
import type {
  Queue,
  ReviewAction,
  ReviewDecision,
  ReviewDocument,
  StepDirection,
} from '../../../../shared/review'

export interface ReviewSession {
  doc: ReviewDocument | null
  /** True once the queue's first answer arrived (null doc then means: empty or done). */
  loaded: boolean
  busy: boolean
  error: string | null
  /** The last change, for the status line ("Kept #12 · Undo"). */
  last: ReviewAction | null
  /** A quality-model retraining started by a decision. */
  retraining: JobRecord | null
  decide: (decision: ReviewDecision) => void
  skip: () => void
  next: () => void
  prev: () => void
  undo: () => void
  redo: () => void
  toggleLabel: (labelId: number) => void
  saveNote: (note: string) => void
  /** Show a document of the queue (picked from the list). */
  open: (id: number) => void
  /** Re-read the current document (after a bulk change, say). */
  refresh: () => void
}

/** Queries whose answers a review change can alter. */
const AFFECTED = [
  'review.overview',
  'review.counts',
  'review.members',
  'datasets.list',
  'data.stats',
]

/**
 * The reviewer's place in a queue and every change they make. One request at a time, in
 * order: a key pressed while one is in flight waits for it, so a fast reviewer can never
 * decide on a document other than the one on screen. Each change is saved by the server
 * before its answer (which brings the next document) arrives.
 */
export function useReview(queue: Queue | null): ReviewSession {
  const transport = useTransport()
  const client = useQueryClient()
  const queueKey = queue ? JSON.stringify(queue) : null
  // What is shown belongs to one queue: switching queues shows nothing until it answers.
  const [view, setView] = useState<{ key: string | null; doc: ReviewDocument | null }>({
    key: null,
    doc: null,
  })
  const doc = view.key === queueKey ? view.doc : null
  const loaded = view.key === queueKey && queueKey !== null
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [last, setLast] = useState<ReviewAction | null>(null)
  const [retraining, setRetraining] = useState<JobRecord | null>(null)
  const docRef = useRef<ReviewDocument | null>(null)
  const chain = useRef<Promise<unknown>>(Promise.resolve())
  const queueRef = useRef(queue)
  useEffect(() => {
    queueRef.current = queue
  })

  /** Show a document, as the answer for the queue it was asked for (a stale answer hides). */
  const show = useCallback((d: ReviewDocument | null, q: Queue | null) => {
    const key = q ? JSON.stringify(q) : null
    if (queueRef.current && JSON.stringify(queueRef.current) === key) docRef.current = d
    setView({ key, doc: d })
  }, [])

  /** Run requests one after another; errors become a message, never a lost document. */
  const enqueue = useCallback((work: () => Promise<void>) => {
    chain.current = chain.current.then(async () => {
      setBusy(true)
      try {
        await work()
        setError(null)
      } catch (err) {
        setError(err instanceof ApiCallError ? err.message : String(err))
      } finally {
        setBusy(false)
      }
    })
  }, [])

  const afterChange = useCallback(
    (r: ReviewChange, q: Queue, keepCurrent: boolean) => {
      if (r.action) setLast(r.action)
      if (r.retrainJob) setRetraining(r.retrainJob)
      if (!keepCurrent || r.document) show(r.document, q)
      for (const key of AFFECTED) void client.invalidateQueries({ queryKey: [key] })
    },
    [client, show],
  )

  const step = useCallback(
    (direction: StepDirection, from: number | null = docRef.current?.id ?? null) => {
      const q = queueRef.current
      if (!q) return
      enqueue(async () => {
        const d = await call(transport, 'review.step', { queue: q, from, direction })
        // 'prev' at the start keeps the current document.
        if (d || direction !== 'prev' || !docRef.current) show(d, q)
      })
    },
    [enqueue, show, transport],
  )

  // A new queue resumes where the reviewer last was in it.
  useEffect(() => {
    docRef.current = null
    if (queueKey) step('resume', null)
  }, [queueKey, step])

  const decide = useCallback(
    (decision: ReviewDecision) =>
      enqueue(async () => {
        const q = queueRef.current
        const current = docRef.current
        if (!q || !current) return
        const r = await call(transport, 'review.decide', {
          documentId: current.id,
          decision,
          advance: { queue: q, direction: 'nextUnreviewed' },
        })
        // Deciding the last undecided document: stay on it, now decided.
        if (!r.document) r.document = await call(transport, 'data.document', { id: current.id })
        afterChange(r, q, false)
      }),
    [afterChange, enqueue, transport],
  )

  const history = useCallback(
    (method: 'review.undo' | 'review.redo') =>
      enqueue(async () => {
        const q = queueRef.current
        if (!q) return
        const r = await call(transport, method, { datasetId: q.datasetId })
        if (!r.action) {
          setError(method === 'review.undo' ? 'Nothing to undo.' : 'Nothing to redo.')
          return
        }
        // A bulk change has no one document to show: stay, but re-read it.
        if (!r.document && docRef.current)
          r.document = await call(transport, 'data.document', { id: docRef.current.id })
        const verb = method === 'review.undo' ? 'Undone' : 'Redone'
        afterChange(
          { ...r, action: { ...r.action, summary: `${verb}: ${r.action.summary}` } },
          q,
          true,
        )
      }),
    [afterChange, enqueue, transport],
  )

  const toggleLabel = useCallback(
    (labelId: number) =>
      enqueue(async () => {
        const q = queueRef.current
        const current = docRef.current
        if (!q || !current) return
        afterChange(
          await call(transport, 'review.label', { documentId: current.id, labelId }),
          q,
          true,
        )
      }),
    [afterChange, enqueue, transport],
  )

  const saveNote = useCallback(
    (note: string) =>
      enqueue(async () => {
        const q = queueRef.current
        const current = docRef.current
        if (!q || !current || note === current.note) return
        afterChange(await call(transport, 'review.note', { documentId: current.id, note }), q, true)
      }),
    [afterChange, enqueue, transport],
  )

  const refresh = useCallback(
    () =>
      enqueue(async () => {
        const q = queueRef.current
        const current = docRef.current
        if (current) show(await call(transport, 'data.document', { id: current.id }), q)
      }),
    [enqueue, show, transport],
  )

  return {
    doc,
    loaded,
    busy,
    error,
    last,
    retraining,
    decide,
    skip: () => step('nextUnreviewed'),
    next: () => step('next'),
    prev: () => step('prev'),
    undo: () => history('review.undo'),
    redo: () => history('review.redo'),
    toggleLabel,
    saveNote,
    open: (id: number) => step('at', id),
    refresh,
  }
}
