import {
  useMutation,
  useQuery,
  useQueryClient,
  type UseMutationOptions,
  type UseQueryOptions,
} from '@tanstack/react-query'
import { createContext, useContext, useEffect, useRef, type ReactNode } from 'react'
import type { MethodName, Params, Result } from '../../../shared/api'
import type { ApiError } from '../../../shared/errors'
import type { EventMap, Topic } from '../../../shared/events'
import type { JobRecord } from '../../../shared/jobs'
import type { Transport } from '../../../shared/transport'
import type { AppTransport } from '../transport'

/** A failed call, thrown so React Query can show it; `error` is the API's typed value. */
export class ApiCallError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message)
    this.name = 'ApiCallError'
  }
}

const TransportContext = createContext<AppTransport | null>(null)

export function TransportProvider({
  transport,
  children,
}: {
  transport: AppTransport
  children: ReactNode
}) {
  return <TransportContext.Provider value={transport}>{children}</TransportContext.Provider>
}

export function useTransport(): AppTransport {
  const transport = useContext(TransportContext)
  if (!transport) throw new Error('useTransport outside TransportProvider')
  return transport
}

/** Call a method; resolves with its result or throws ApiCallError. */
export async function call<M extends MethodName>(
  transport: Transport,
  method: M,
  params: Params<M>,
): Promise<Result<M>> {
  const result = await transport.invoke(method, params)
  if (!result.ok) throw new ApiCallError(result.error)
  return result.value
}

/**
 * Start a job through `method` and wait for it to end: its final record (succeeded, failed
 * or cancelled). `onStarted` hears its id, to cancel it.
 */
export async function runJobToEnd<M extends MethodName>(
  transport: Transport,
  method: M,
  params: Params<M>,
  onStarted?: (id: string) => void,
): Promise<JobRecord> {
  const endedEarly = new Map<string, JobRecord>()
  let wanted: string | null = null
  let resolve: (job: JobRecord) => void = () => {}
  const ended = new Promise<JobRecord>((r) => (resolve = r))
  const isOver = (job: JobRecord) => job.state !== 'queued' && job.state !== 'running'
  // Subscribed before the call: a quick job may end before the call returns its id.
  const unsubscribe = transport.subscribe('job.state', (job) => {
    if (!isOver(job)) return
    if (job.id === wanted) resolve(job)
    else if (wanted === null) endedEarly.set(job.id, job)
  })
  try {
    const job = (await call(transport, method, params)) as JobRecord
    wanted = job.id
    onStarted?.(job.id)
    return isOver(job) ? job : (endedEarly.get(job.id) ?? (await ended))
  } finally {
    unsubscribe()
  }
}

/** Cache key of a call: method, then params (`{}` when none), so prefixes invalidate a method. */
export const queryKey = <M extends MethodName>(method: M, params?: Params<M>): unknown[] => [
  method,
  params ?? {},
]

/** A cached query of one API method, refetched when events invalidate it. */
export function useApiQuery<M extends MethodName>(
  method: M,
  params: Params<M>,
  options: Omit<UseQueryOptions<Result<M>, ApiCallError>, 'queryKey' | 'queryFn'> = {},
) {
  const transport = useTransport()
  return useQuery<Result<M>, ApiCallError>({
    queryKey: queryKey(method, params),
    queryFn: () => call(transport, method, params),
    ...options,
  })
}

/** A call with side effects; `onSuccess` etc. as in React Query. */
export function useApiMutation<M extends MethodName>(
  method: M,
  options: Omit<UseMutationOptions<Result<M>, ApiCallError, Params<M>>, 'mutationFn'> = {},
) {
  const transport = useTransport()
  return useMutation<Result<M>, ApiCallError, Params<M>>({
    mutationFn: (params) => call(transport, method, params),
    ...options,
  })
}

/** Listen to an event topic for as long as the component is mounted. */
export function useEvent<T extends Topic>(
  topic: T,
  listener: (payload: EventMap[T]) => void,
): void {
  const transport = useTransport()
  const latest = useRef(listener)
  useEffect(() => {
    latest.current = listener
  })
  useEffect(
    () => transport.subscribe(topic, (payload) => latest.current(payload)),
    [transport, topic],
  )
}

/**
 * Keep cached queries in step with what the backend announces: a project, settings or
 * backend change here, a job's in api/jobs.ts (`useJobInvalidation`). Refetch rather than
 * take the event's payload: a fetch that left before the change but answers after it would
 * otherwise overwrite the new state with the old one, for good (queries never go stale on
 * their own). Invalidating cancels such a fetch.
 */
export function useEventInvalidation(): void {
  const client = useQueryClient()
  useEvent('project.changed', () => void client.invalidateQueries())
  useEvent('settings.changed', () => void client.invalidateQueries({ queryKey: ['settings.get'] }))
  useEvent('backend.changed', () => void client.invalidateQueries({ queryKey: ['system.backend'] }))
}
