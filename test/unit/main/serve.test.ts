import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createRouter } from '../../../src/main/api/router'
import type { ApiHandlers } from '../../../src/main/api/types'
import { EventBus } from '../../../src/main/events'
import { startServer, type RunningServer } from '../../../src/main/serve/server'
import { useTempDir } from '../../helpers/temp'
import { waitUntil } from '../../helpers/wait'

const tempDir = useTempDir()
let server: RunningServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

async function start(options: { heartbeatMs?: number; authTimeoutMs?: number } = {}) {
  const dir = tempDir()
  mkdirSync(join(dir, 'assets'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Frugal</title>')
  writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)')
  writeFileSync(join(dir, '..', 'secret.txt'), 'do not serve')
  const events = new EventBus()
  const router = createRouter({ 'project.current': () => null } as unknown as ApiHandlers)
  server = await startServer({ router, events, staticDir: dir, port: 0, ...options })
  const base = `http://127.0.0.1:${server.port}`
  return { server, events, base, auth: { Authorization: `Bearer ${server.token}` } }
}

/** A request sent exactly as written (fetch would normalize the path and Host). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

const invoke = (base: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${base}/api/invoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

describe('headless server', () => {
  it('binds loopback and prints a URL that carries a fresh 256-bit token', async () => {
    const { server } = await start()
    expect(server.host).toBe('127.0.0.1')
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`)
    expect(server.token).toMatch(/^[0-9a-f]{64}$/)
  })

  it('answers 401 to every API request without the token; the app shell itself is public', async () => {
    const { base } = await start()
    // The renderer's files hold no data: a page opened without the token loads and says
    // it needs one (app/AccessTokenNeeded.tsx).
    expect((await fetch(`${base}/`)).status).toBe(200)
    expect((await fetch(`${base}/assets/app-1234.js`)).status).toBe(200)
    const api = await invoke(base, {}, { method: 'project.current' })
    expect(api.status).toBe(401)
    expect(await api.json()).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
    expect(
      (await invoke(base, { Authorization: 'Bearer wrong' }, { method: 'project.current' })).status,
    ).toBe(401)
  })

  it('never puts the token in a cookie, which browsers would send to every port of the host', async () => {
    const { base, server } = await start()
    const page = await fetch(`${base}/?token=${server.token}`, { redirect: 'manual' })
    expect(page.status).toBe(200)
    expect(page.headers.get('set-cookie')).toBeNull()
    expect(page.headers.get('content-security-policy')).toMatch(
      /default-src 'self'.*frame-ancestors 'none'/,
    )
    expect(await page.text()).toContain('<title>Frugal</title>')
    // A cookie named as the old one was is no token.
    const cookie = { cookie: `frugal_token_${server.port}=${server.token}` }
    expect((await invoke(base, cookie, { method: 'project.current' })).status).toBe(401)
  })

  it('serves the renderer, client routes fall back to index.html, nothing outside it', async () => {
    const { base, auth, server } = await start()
    const asset = await fetch(`${base}/assets/app-1234.js`, { headers: auth })
    expect(asset.headers.get('content-type')).toMatch(/javascript/)
    expect(asset.headers.get('cache-control')).toMatch(/immutable/)
    expect((await fetch(`${base}/settings`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${base}/missing.js`, { headers: auth })).status).toBe(404)
    // secret.txt sits beside the served folder: no spelling of a path may reach it.
    for (const path of [
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/../../secret.txt',
      '/assets/..%2f..%2fsecret.txt',
    ]) {
      expect([403, 404]).toContain(await rawGet(server.port, path, auth))
    }
  })

  it('routes API calls and refuses cross-origin and rebinding requests', async () => {
    const { base, auth, server } = await start()
    const ok = await invoke(base, auth, { method: 'project.current', params: {} })
    expect(await ok.json()).toEqual({ ok: true, value: null })
    const cross = await invoke(
      base,
      { ...auth, Origin: 'http://evil.example' },
      { method: 'project.current' },
    )
    expect(cross.status).toBe(403)
    const bad = await fetch(`${base}/api/invoke`, {
      method: 'POST',
      headers: auth,
      body: '{not json',
    })
    expect(bad.status).toBe(400)
    // A DNS-rebinding page reaches us under a foreign Host name.
    expect(await rawGet(server.port, '/', { ...auth, Host: `evil.example:${server.port}` })).toBe(
      403,
    )
    expect(await rawGet(server.port, '/', { ...auth, Host: `localhost:${server.port}` })).toBe(200)
  })

  it('pushes events over the WebSocket, only for subscribed topics, and only with the token', async () => {
    const { base, events, server } = await start({ authTimeoutMs: 200 })
    const wsUrl = base.replace('http', 'ws') + '/api/events'
    const closeCode = (ws: WebSocket) => new Promise<number>((resolve) => ws.on('close', resolve))
    // Silent: closed when the token does not come in time; a wrong token: closed at once.
    const silent = new WebSocket(wsUrl)
    expect(await closeCode(silent)).toBe(4401)
    const wrong = new WebSocket(wsUrl)
    wrong.on('open', () => wrong.send(JSON.stringify({ type: 'auth', token: 'f'.repeat(64) })))
    expect(await closeCode(wrong)).toBe(4401)
    // Before the token, a subscription is not heard: it ends the socket too.
    const early = new WebSocket(wsUrl)
    early.on('open', () => early.send(JSON.stringify({ type: 'subscribe', topics: ['job.state'] })))
    expect(await closeCode(early)).toBe(4401)

    // The page's way: the token as the first message (a script may use ?token= instead).
    const ws = new WebSocket(wsUrl)
    await new Promise((resolve) => ws.on('open', resolve))
    const received: unknown[] = []
    ws.on('message', (data: Buffer) => received.push(JSON.parse(data.toString('utf8'))))
    ws.send(JSON.stringify({ type: 'auth', token: server.token }))
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['settings.changed', 'not.a.topic'] }))
    await waitUntil(() => received.length > 0, 'the subscription to be confirmed')
    events.publish('backend.changed', { status: 'probing' })
    events.publish('settings.changed', { theme: 'dark', reviewKeys: {} })
    // Messages arrive in order: had the unsubscribed topic been sent, it would come first.
    await waitUntil(() => received.length >= 2, 'the subscribed event')
    expect(received).toEqual([
      { type: 'subscribed', topics: ['settings.changed'] },
      { topic: 'settings.changed', payload: { theme: 'dark', reviewKeys: {} } },
    ])
    ws.close()
  })

  it('sends a heartbeat on the event socket, so a page can tell quiet from stalled', async () => {
    const { base, server } = await start({ heartbeatMs: 40 })
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/events?token=${server.token}`)
    await new Promise((resolve) => ws.on('open', resolve))
    const received: unknown[] = []
    ws.on('message', (data: Buffer) => received.push(JSON.parse(data.toString('utf8'))))
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['job.state'] }))
    const heartbeats = () =>
      received.filter((m) => JSON.stringify(m) === '{"type":"heartbeat"}').length
    await waitUntil(() => heartbeats() >= 3, 'three heartbeats')
    expect(received[0]).toEqual({ type: 'subscribed', topics: ['job.state'] })
    ws.close()
  })
})
