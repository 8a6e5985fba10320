import type { ApiResult } from '../../../shared/errors'
import type { EventEnvelope, EventMap, Topic } from '../../../shared/events'
import type { Transport } from '../../../shared/transport'

type Listener = (payload: unknown) => void

/**
 * Headless (`frugal serve`): calls are `POST /api/invoke`; events arrive on one
 * WebSocket that reconnects with backoff. The access token travels as an HttpOnly
 * cookie the server set when the page was first opened.
 */
export function httpTransport(onConnectionChange?: (connected: boolean) => void): Transport {
  const listeners = new Map<Topic, Set<Listener>>()
  let socket: WebSocket | null = null
  let retryMs = 500

  const sendSubscriptions = (): void => {
    if (socket?.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'subscribe', topics: [...listeners.keys()] }))
    }
  }

  const connect = (): void => {
    const url = new URL('/api/events', window.location.href)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    const ws = new WebSocket(url)
    socket = ws
    ws.onopen = () => {
      retryMs = 500
      sendSubscriptions()
      onConnectionChange?.(true)
    }
    ws.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as EventEnvelope
      for (const l of listeners.get(event.topic) ?? []) l(event.payload)
    }
    ws.onclose = () => {
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
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ method, params }),
          credentials: 'same-origin',
        })
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
    subscribe<T extends Topic>(topic: T, listener: (payload: EventMap[T]) => void) {
      let set = listeners.get(topic)
      const isNewTopic = !set
      if (!set) listeners.set(topic, (set = new Set()))
      set.add(listener as Listener)
      if (isNewTopic) sendSubscriptions()
      return () => {
        set.delete(listener as Listener)
        if (set.size === 0) {
          listeners.delete(topic)
          sendSubscriptions()
        }
      }
    },
  }
}
