import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { Router } from '../api/router'
import type { EventBus } from '../events'
import { contentSecurityPolicyHeader } from '../../shared/csp'
import type { ApiResult } from '../../shared/errors'
import {
  EVENT_HEARTBEAT_MS,
  EVENT_SOCKET_UNAUTHORIZED,
  isTopic,
  type EventControlMessage,
  type EventEnvelope,
  type Topic,
} from '../../shared/events'
import { hostAllowed, newToken, originAllowed, requestToken, requestUrl, tokensMatch } from './auth'
import { serveStatic } from './static'
import { handleUpload, type UploadOptions } from './upload'

export interface ServeOptions {
  router: Router
  events: EventBus
  /** The built renderer (out/renderer). */
  staticDir: string
  /** Interface to bind; 127.0.0.1 unless the user asks otherwise. */
  host?: string
  /** 0 picks a free port. */
  port?: number
  token?: string
  /** Where `PUT /api/upload` writes files a browser sends for import; uploads are refused without it. */
  uploads?: UploadOptions
  /** Interval of the event socket's heartbeat; EVENT_HEARTBEAT_MS unless a test says otherwise. */
  heartbeatMs?: number
  /** How long a new event socket may take to send its token (AUTH_TIMEOUT_MS unless a test says otherwise). */
  authTimeoutMs?: number
}

/** A browser's event socket authenticates with its first message, within this time. */
const AUTH_TIMEOUT_MS = 5000

export interface RunningServer {
  /** The address to open, token included. */
  url: string
  host: string
  port: number
  token: string
  close(): Promise<void>
}

const MAX_BODY_BYTES = 16 * 1024 * 1024
/** A client this far behind gets no more progress events until it catches up. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024

const securityHeaders = {
  'Content-Security-Policy': contentSecurityPolicyHeader,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

function sendJson(res: ServerResponse, status: number, body: ApiResult<unknown>): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  })
  res.end(JSON.stringify(body))
}

/** A WebSocket frame's text: ws hands over a Buffer, fragments as Buffer[], or an ArrayBuffer. */
function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data)).toString('utf8')
  return data.toString('utf8')
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('Request body too large'))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/**
 * The headless transport: the built renderer over HTTP, API calls as
 * `POST /api/invoke`, events over a WebSocket at `/api/events`. The renderer's files are
 * the public app (they hold no data); everything under /api/ needs the token. A browser
 * gets it once in the URL, keeps it in the tab's sessionStorage and sends it as a header
 * (and as the event socket's first message); it is never a cookie (see requestToken).
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? newToken()
  let port = 0

  const authorized = (req: IncomingMessage, url: URL): boolean =>
    tokensMatch(token, requestToken(req, url))

  const server = createServer((req, res) => {
    // Anyone who can reach the port can send anything: a request this code cannot handle
    // fails alone, with an answer, and never takes the server (and its jobs) down.
    try {
      handleRequest(req, res)
    } catch (err) {
      failRequest(res, err)
    }
  })

  /** The answer to a request that threw: 500 if nothing was sent yet, else cut it off. */
  function failRequest(res: ServerResponse, err: unknown): void {
    console.error(`serve: a request failed: ${(err as Error)?.message ?? String(err)}`)
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Internal error')
    } else res.destroy()
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    for (const [k, v] of Object.entries(securityHeaders)) res.setHeader(k, v)
    const url = requestUrl(req)
    if (!url) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Bad request target')
      return
    }
    if (!hostAllowed(req, host, port)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Host not allowed')
      return
    }
    if (url.pathname.startsWith('/api/') && !authorized(req, url)) {
      sendJson(res, 401, {
        ok: false,
        error: { code: 'unauthorized', message: 'Missing or wrong access token.' },
      })
      return
    }
    if (url.pathname === '/api/invoke') {
      handleInvoke(req, res).catch((err: unknown) => failRequest(res, err))
      return
    }
    if (url.pathname === '/api/upload') {
      if (!originAllowed(req) || !options.uploads) {
        sendJson(res, 403, {
          ok: false,
          error: { code: 'unauthorized', message: 'Uploads are not accepted here.' },
        })
        return
      }
      handleUpload(req, res, url, options.uploads).catch((err: unknown) => failRequest(res, err))
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end()
      return
    }
    serveStatic(options.staticDir, url.pathname, res)
  }

  async function handleInvoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end()
      return
    }
    if (!originAllowed(req)) {
      sendJson(res, 403, {
        ok: false,
        error: { code: 'unauthorized', message: 'Cross-origin requests are refused.' },
      })
      return
    }
    let body: { method?: unknown; params?: unknown }
    try {
      body = JSON.parse(await readBody(req)) as typeof body
    } catch (err) {
      sendJson(res, 400, {
        ok: false,
        error: { code: 'invalid_params', message: `Invalid request: ${(err as Error).message}` },
      })
      return
    }
    if (typeof body?.method !== 'string') {
      sendJson(res, 400, {
        ok: false,
        error: { code: 'invalid_params', message: 'The request needs a "method".' },
      })
      return
    }
    sendJson(res, 200, await options.router.invoke(body.method, body.params))
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  const subscriptions = new Map<WebSocket, Set<Topic>>()
  server.on('upgrade', (req, socket, head) => {
    // A reset or a write to a closed socket during the handshake ends that socket only.
    socket.on('error', () => socket.destroy())
    const url = requestUrl(req)
    if (
      !url ||
      url.pathname !== '/api/events' ||
      !hostAllowed(req, host, port) ||
      !originAllowed(req)
    ) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    // A script may authenticate the upgrade itself (header or query); a browser cannot set
    // headers on a WebSocket, so the page sends the token as its first message instead.
    let trusted = authorized(req, url)
    wss.handleUpgrade(req, socket, head, (ws) => {
      // A frame over maxPayload, invalid UTF-8 or a protocol violation: ws closes this
      // socket with the right code and reports it here; without a listener it would throw.
      ws.on('error', () => ws.terminate())
      const deadline = trusted
        ? null
        : setTimeout(
            () => ws.close(EVENT_SOCKET_UNAUTHORIZED, 'unauthorized'),
            options.authTimeoutMs ?? AUTH_TIMEOUT_MS,
          )
      const admit = () => {
        trusted = true
        if (deadline) clearTimeout(deadline)
        subscriptions.set(ws, new Set())
      }
      if (trusted) admit()
      ws.on('message', (data) => {
        // The client names the topics it listens to; anything else is ignored.
        try {
          const msg = JSON.parse(frameText(data)) as {
            type?: string
            topics?: unknown
            token?: unknown
          }
          if (!trusted) {
            // Nothing but the token is heard before it: a wrong one ends the socket.
            if (
              msg.type === 'auth' &&
              typeof msg.token === 'string' &&
              tokensMatch(token, msg.token)
            )
              admit()
            else ws.close(EVENT_SOCKET_UNAUTHORIZED, 'unauthorized')
            return
          }
          if (msg.type === 'subscribe' && Array.isArray(msg.topics)) {
            const topics = msg.topics.filter(isTopic)
            subscriptions.set(ws, new Set(topics))
            // From here on no event is missed: the client refetches what it showed before.
            ws.send(JSON.stringify({ type: 'subscribed', topics } satisfies EventControlMessage))
          }
        } catch {
          // A malformed message: ignored once authenticated, the end before.
          if (!trusted) ws.close(EVENT_SOCKET_UNAUTHORIZED, 'unauthorized')
        }
      })
      ws.on('close', () => {
        if (deadline) clearTimeout(deadline)
        subscriptions.delete(ws)
      })
    })
  })

  const unsubscribe = options.events.subscribe((event: EventEnvelope) => {
    const text = JSON.stringify(event)
    for (const [ws, topics] of subscriptions) {
      if (!topics.has(event.topic) || ws.readyState !== ws.OPEN) continue
      if (event.topic === 'job.progress' && ws.bufferedAmount > MAX_BUFFERED_BYTES) continue
      ws.send(text)
    }
  })
  // Pings detect dead connections (a laptop that went to sleep) so they stop piling up
  // events; the heartbeat message tells the page its socket still delivers.
  const beat = JSON.stringify({ type: 'heartbeat' } satisfies EventControlMessage)
  const heartbeat = setInterval(() => {
    for (const ws of subscriptions.keys()) {
      if (ws.readyState !== ws.OPEN) continue
      ws.ping()
      ws.send(beat)
    }
  }, options.heartbeatMs ?? EVENT_HEARTBEAT_MS)
  heartbeat.unref()

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host
  return {
    url: `http://${urlHost}:${port}/?token=${token}`,
    host,
    port,
    token,
    async close() {
      clearInterval(heartbeat)
      unsubscribe()
      for (const ws of subscriptions.keys()) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
