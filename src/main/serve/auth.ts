import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** A fresh 256-bit access token, hex. */
export function newToken(): string {
  return randomBytes(32).toString('hex')
}

export function tokensMatch(expected: string, given: string | null | undefined): boolean {
  if (!given) return false
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * A request's target as a URL, or null when it is not a path this server could serve.
 * `new URL('//', base)` throws (it reads as a host-less authority), so the target is
 * taken as a path below a fixed origin instead; anything not starting with `/` (an
 * absolute-form or `*` target) is refused.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  const target = req.url ?? ''
  if (!target.startsWith('/')) return null
  try {
    return new URL(`http://localhost${target}`)
  } catch {
    return null
  }
}

/**
 * The token a request carries: `Authorization: Bearer` (the page's API calls, scripts) or
 * `?token=` (a script's convenience). Never a cookie: browsers send a host's cookies to
 * every port on it, so a cookie would hand the token to any other local service the
 * browser talks to. The page keeps it in its tab's sessionStorage instead.
 */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const query = url.searchParams.get('token')
  if (query) return query
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim()
  return null
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host)
}

/**
 * Defence against DNS rebinding: on a loopback server, a request must name a loopback
 * host, or a web page on another site could reach us through a name it controls.
 */
export function hostAllowed(req: IncomingMessage, boundHost: string, port: number): boolean {
  if (!isLoopback(boundHost)) return true
  const host = req.headers.host
  if (!host) return false
  const allowed = ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port}`)
  return allowed.includes(host.toLowerCase())
}

/** Browsers send Origin on cross-site requests; ours must come from this very server. */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (!origin) return true // not a browser cross-origin request (curl, the CLI, same-origin GET)
  return origin === `http://${req.headers.host}`
}
