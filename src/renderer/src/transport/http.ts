import type { ApiResult } from '../../../shared/errors'
import {
  EVENT_HEARTBEAT_MS,
  EVENT_SOCKET_UNAUTHORIZED,
  topics,
  type EventControlMessage,
  type EventEnvelope,
  type EventMap,
  type Topic,
} from '../../../shared/events'
import type { AppTransport } from '.'

type Listener = (payload: unknown) => void

/** How long a new socket may take to open and have its subscription acknowledged. */
const ACK_TIMEOUT_MS = 5000
/** Silence after which an acknowledged socket counts as stalled: three missed heartbeats. */
const SILENCE_TIMEOUT_MS = 3 * EVENT_HEARTBEAT_MS

const TOKEN_KEY = 'frugal-token'

/**
 * The access token of this tab: taken from the address `frugal serve` printed
 * (`?token=…`), which it then leaves, and kept in sessionStorage for reloads. Never a
 * cookie: browsers send a host's cookies to every port on it, so any other local service
 * the browser visits would receive it; sessionStorage belongs to this origin (port
 * included) and this tab alone. Null when the page was opened without it.
 */
export function accessToken(): string | null {
  const url = new URL(window.location.href)
  const given = url.searchParams.get('token')
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given)
    url.searchParams.delete('token')
    // Out of the address bar: not in history, not copied along with a link.
    window.history.replaceState(null, '', url.pathname + url.search + url.hash)
    return given
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

/**
 * The server refused this tab's token (it restarted with a new one): forget it and show
 * the page that says where to find the new address, rather than failing every call.
 */
function tokenRefused(): void {
  sessionStorage.removeItem(TOKEN_KEY)
  window.location.reload()
}

/**
 * Headless (`frugal serve`): calls are `POST /api/invoke`; events arrive on one
 * WebSocket that reconnects with backoff. The access token goes with every call as a
 * header, and as the event socket's first message (a browser cannot set its headers).
 */
export function httpTransport(
  token: string,
  onConnectionChange?: (connected: boolean) => void,
): AppTransport {
  const listeners = new Map<Topic, Set<Listener>>()
  let socket: WebSocket | null = null
  let retryMs = 500

  // Every topic, from the moment the socket opens: a topic subscribed only when a
  // component mounts would miss what happened between that component's first fetch and
  // its subscription. Listeners decide what they use; the server's filter is per socket.
  const sendSubscriptions = (): void => {
    if (socket?.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'subscribe', topics }))
    }
  }

  const connect = (): void => {
    const url = new URL('/api/events', window.location.href)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    const ws = new WebSocket(url)
    socket = ws
    let acknowledged = false
    // A socket that is not open and acknowledged soon delivers no events: seen in CI, a
    // handshake that took 15 s, and an open socket whose subscription was never answered.
    // Start over: the new socket's acknowledgement refetches everything, so nothing stays
    // stale. (Closing a socket still connecting fires onclose, which reconnects.)
    let watchdog = setTimeout(() => {
      if (!acknowledged) ws.close()
    }, ACK_TIMEOUT_MS)
    // Once acknowledged, the server speaks at least every heartbeat: a socket silent for
    // longer stopped delivering (a stalled proxy, a suspended network) without closing.
    // Replacing it refetches everything, as above.
    const expectSilenceAtMost = (): void => {
      clearTimeout(watchdog)
      watchdog = setTimeout(() => ws.close(), SILENCE_TIMEOUT_MS)
    }
    ws.onopen = () => {
      retryMs = 500
      ws.send(JSON.stringify({ type: 'auth', token }))
      sendSubscriptions()
    }
    ws.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as EventEnvelope | EventControlMessage
      if (acknowledged) expectSilenceAtMost()
      if ('type' in data) {
        if (data.type !== 'subscribed') return
        // The server now sends every event we listen to; what was fetched before the
        // subscription took effect may be stale, so the first ack counts as (re)connecting.
        if (!acknowledged) onConnectionChange?.(true)
        acknowledged = true
        expectSilenceAtMost()
        return
      }
      for (const l of listeners.get(data.topic) ?? []) l(data.payload)
    }
    ws.onclose = (event) => {
      if (event.code === EVENT_SOCKET_UNAUTHORIZED) return tokenRefused()
      clearTimeout(watchdog)
      onConnectionChange?.(false)
      socket = null
      setTimeout(connect, retryMs)
      retryMs = Math.min(retryMs * 2, 10_000)
    }
  }
  connect()

  return {
    async invoke(method, params) {
      try {
        const res = await fetch('/api/invoke', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify({ method, params }),
          credentials: 'omit',
        })
        if (res.status === 401) tokenRefused()
        return (await res.json()) as ApiResult<never>
      } catch (err) {
        return {
          ok: false,
          error: {
            code: 'io',
            message: `Frugal's server cannot be reached (${(err as Error).message}). Is \`frugal serve\` still running?`,
          },
        }
      }
    },
    fileToPath: (file, onProgress, signal) => uploadFile(token, file, onProgress, signal),
    subscribe<T extends Topic>(topic: T, listener: (payload: EventMap[T]) => void) {
      let set = listeners.get(topic)
      if (!set) listeners.set(topic, (set = new Set()))
      set.add(listener as Listener)
      return () => {
        set.delete(listener as Listener)
        if (set.size === 0) listeners.delete(topic)
      }
    },
  }
}

/**
 * Stream a file to the server (`PUT /api/upload`), which answers with the path it wrote.
 * XMLHttpRequest rather than fetch: only it reports upload progress.
 */
function uploadFile(
  token: string,
  file: File,
  onProgress?: (sentBytes: number, totalBytes: number) => void,
  signal?: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('PUT', `/api/upload?name=${encodeURIComponent(file.name)}`)
    xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size)
    xhr.onload = () => {
      try {
        const body = JSON.parse(xhr.responseText) as ApiResult<{ path: string }>
        if (body.ok) resolve(body.value.path)
        else reject(new Error(body.error.message))
      } catch {
        reject(new Error(`The upload of ${file.name} failed (HTTP ${xhr.status}).`))
      }
    }
    xhr.onerror = () =>
      reject(new Error(`The upload of ${file.name} failed: the server cannot be reached.`))
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'))
    signal?.addEventListener('abort', () => xhr.abort(), { once: true })
    xhr.send(file)
  })
}
