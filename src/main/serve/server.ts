import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { Router } from '../api/router'
import type { EventBus } from '../events'
import { contentSecurityPolicyHeader } from '../../shared/csp'
import type { ApiResult } from '../../shared/errors'
import {
  EVENT_HEARTBEAT_MS,
  isTopic,
  type EventControlMessage,
  type EventEnvelope,
  type Topic,
} from '../../shared/events'
import {
  cookieName,
  hostAllowed,
  newToken,
  originAllowed,
  requestToken,
  requestUrl,
  tokensMatch,
} from './auth'
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
}

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

const unauthorizedPage = `<!doctype html><meta charset="utf-8"><title>Frugal: access token needed</title>
<body style="font-family: system-ui; max-width: 36rem; margin: 4rem auto; line-height: 1.5">
<h1>Access token needed</h1>
<p>This Frugal server only answers the address it printed when it started, which carries
an access token (<code>…/?token=…</code>). Open that address, or restart <code>frugal serve</code>
to get a new one.</p></body>`

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
 * `POST /api/invoke`, events over a WebSocket at `/api/events`. Every request needs the
 * token; a browser gets it once in the URL and keeps it as an HttpOnly cookie.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? newToken()
  let port = 0

  const authorized = (req: IncomingMessage, url: URL): boolean =>
    tokensMatch(token, requestToken(req, url, port))

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
    if (!authorized(req, url)) {
      if (url.pathname.startsWith('/api/')) {
        sendJson(res, 401, {
          ok: false,
          error: { code: 'unauthorized', message: 'Missing or wrong access token.' },
        })
      } else {
        res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8' }).end(unauthorizedPage)
      }
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
    if (url.searchParams.has('token')) {
      // Trade the token in the address bar for a cookie, and drop it from the URL so it
      // does not linger in history or get copied along with a link.
      // One leading slash: `//host/…` would send the browser to another site.
      url.searchParams.delete('token')
      res.writeHead(303, {
        'Set-Cookie': `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname.replace(/^\/+/, '/') + url.search,
      })
      res.end()
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
      !originAllowed(req) ||
      !authorized(req, url)
    ) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      subscriptions.set(ws, new Set())
      // A frame over maxPayload, invalid UTF-8 or a protocol violation: ws closes this
      // socket with the right code and reports it here; without a listener it would throw.
      ws.on('error', () => ws.terminate())
      ws.on('message', (data) => {
        // The client names the topics it listens to; anything else is ignored.
        try {
          const msg = JSON.parse(frameText(data)) as { type?: string; topics?: unknown }
          if (msg.type === 'subscribe' && Array.isArray(msg.topics)) {
            const topics = msg.topics.filter(isTopic)
            subscriptions.set(ws, new Set(topics))
            // From here on no event is missed: the client refetches what it showed before.
            ws.send(JSON.stringify({ type: 'subscribed', topics } satisfies EventControlMessage))
          }
        } catch {
          /* malformed client message: ignore */
        }
      })
      ws.on('close', () => subscriptions.delete(ws))
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
