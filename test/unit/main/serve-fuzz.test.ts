import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { useTempDir } from '../../helpers/temp'

/**
 * Hostile input against the server in its own process: malformed request targets,
 * headers, cookies, bodies and WebSocket frames, each sent exactly as written, and after
 * each one the server must still answer a good request. Anyone who can reach the port can
 * send these (with --host, anyone on the network), most of them without the token.
 */

const tempDir = useTempDir('frugal-serve-fuzz-')
let child: ChildProcess | null = null
afterEach(() => {
  child?.kill('SIGKILL')
  child = null
})

async function startStubServer() {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/stub-server.ts', tempDir()],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  child = proc
  const stderr: string[] = []
  createInterface({ input: proc.stderr }).on('line', (l) => stderr.push(l))
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', resolve)
    proc.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr.join('\n')}`)))
  })
  const { port, token } = JSON.parse(line) as { port: number; token: string }
  const exited = () => proc.exitCode !== null || proc.signalCode !== null
  return { port, token, exited, stderr }
}

/** Send bytes exactly as given; the status code of the answer (0: none before it closed). */
function raw(port: number, bytes: string | Buffer, waitMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0))
    }
    const timer = setTimeout(done, waitMs)
    socket.on('data', (d) => {
      answer += d.toString('latin1')
      if (/\r\n\r\n/.test(answer)) done()
    })
    socket.on('error', done)
    socket.on('close', done)
    socket.write(bytes)
  })
}

const request = (
  target: string,
  headers: Record<string, string>,
  { method = 'GET', body = '' }: { method?: string; body?: string | Buffer } = {},
) => {
  const head =
    `${method} ${target} HTTP/1.1\r\n` +
    Object.entries({ Connection: 'close', ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n'
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)])
}

describe('the server survives hostile requests', () => {
  it('answers malformed paths, headers, cookies, bodies and frames, and stays up', async () => {
    const { port, token, exited, stderr } = await startStubServer()
    const host = { Host: `127.0.0.1:${port}` }
    const auth = { ...host, Authorization: `Bearer ${token}` }
    const cookie = (value: string) => ({ ...host, Cookie: `frugal_token_${port}=${value}` })
    const json = { 'Content-Type': 'application/json' }
    const invoke = (body: string | Buffer, extra: Record<string, string> = {}) =>
      request(
        '/api/invoke',
        { ...auth, ...json, 'Content-Length': String(body.length), ...extra },
        {
          method: 'POST',
          body,
        },
      )

    const attacks: [string, Buffer | string, number[]][] = [
      // The app shell is public (it holds no data): '//' is a client route, index.html.
      ['path //, no token', request('//', host), [200]],
      ['path //, token', request('//', auth), [200]],
      ['path //evil.example/?token=', request(`//evil.example/?token=${token}`, host), [404]],
      ['path with a broken escape', request('/%E0%A4%A', auth), [400]],
      // A client route: index.html (200), as for any path without an extension.
      ['path with a NUL escape', request('/%00', auth), [200]],
      ['asterisk target', request('*', auth), [400]],
      ['absolute-form target', request('http://evil.example/', auth), [400]],
      // Stats as a file, fails when read: the response is cut off, the server stays.
      ['static file whose read fails', request('/assets/unreadable.js', host), [0, 200]],
      ['path of 8,000 characters', request('/' + 'a'.repeat(8000) + '.js', auth), [404]],
      // Dot segments are resolved below the root: index.html again (serve.test.ts checks
      // that no spelling reaches a file outside the renderer).
      ['path climbing out', request('/assets/' + '%2e%2e/'.repeat(20) + 'etc/passwd', auth), [200]],
      ['malformed token cookie', request('/api/invoke', cookie('%E0%A4%A')), [401]],
      ['token cookie of junk', request('/api/invoke', cookie('=;;=;%%%')), [401]],
      [
        'cookie header of separators',
        request('/api/invoke', { ...host, Cookie: ';;;===;' }),
        [401],
      ],
      ['empty bearer', request('/api/invoke', { ...host, Authorization: 'Bearer' }), [401]],
      [
        'basic auth',
        request('/api/invoke', { ...host, Authorization: 'Basic Zm9vOmJhcg==' }),
        [401],
      ],
      ['no Host header', 'GET / HTTP/1.0\r\n\r\n', [403]],
      ['Host of junk', request('/', { ...auth, Host: '\u00ff\u00fe:::' }), [400, 403]],
      ['invalid header bytes', 'GET / HTTP/1.1\r\nX: \u0000\u0001\r\n\r\n', [400]],
      ['not HTTP at all', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00]), [0, 400]],
      ['invoke: invalid JSON', invoke('{not json'), [400]],
      ['invoke: null', invoke('null'), [400]],
      ['invoke: a number for method', invoke('{"method":5}'), [400]],
      ['invoke: unknown method', invoke('{"method":"no.such"}'), [200]],
      [
        'invoke: params of the wrong type',
        invoke('{"method":"project.current","params":"x"}'),
        [200],
      ],
      ['invoke: invalid UTF-8', invoke(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), [400]],
      ['invoke: body shorter than declared', invoke('{"method"', { 'Content-Length': '999' }), [0]],
      ['invoke: cross-origin', invoke('{}', { Origin: 'http://evil.example' }), [403]],
      ['upload: no name', request('/api/upload', auth, { method: 'PUT' }), [400]],
      ['upload: name ..', request('/api/upload?name=..', auth, { method: 'PUT' }), [400]],
      [
        'upload: over the limit',
        request(
          '/api/upload?name=a.txt',
          { ...auth, 'Content-Length': String(2 ** 40) },
          {
            method: 'PUT',
          },
        ),
        [413],
      ],
      [
        'upgrade to //',
        request('//', {
          ...auth,
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        }),
        [401],
      ],
      [
        // Accepted, then closed unless its first message is the token (serve.test.ts).
        'upgrade with a malformed cookie',
        request('/api/events', {
          ...cookie('%E0%A4%A'),
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        }),
        [101],
      ],
      [
        'upgrade with a bad key',
        request('/api/events', {
          ...auth,
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'short',
        }),
        [400],
      ],
    ]
    const alive = async (after: string) => {
      expect(exited(), `the server died after "${after}": ${stderr.join('\n')}`).toBe(false)
      expect(
        await raw(port, request('/', auth)),
        `the server stopped answering after "${after}"`,
      ).toBe(200)
    }
    for (const [name, bytes, statuses] of attacks) {
      const status = await raw(port, bytes)
      expect(statuses, `${name}: answered ${status}`).toContain(status)
      await alive(name)
    }

    // WebSocket frames: over 64 KiB, text that is not UTF-8, garbage after the handshake.
    const url = `ws://127.0.0.1:${port}/api/events?token=${token}`
    const frames: [string, (ws: WebSocket) => void][] = [
      ['a frame over 64 KiB', (ws) => ws.send('x'.repeat(70 * 1024))],
      [
        'a text frame of invalid UTF-8',
        (ws) => ws.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false }),
      ],
      ['a binary frame of junk', (ws) => ws.send(Buffer.from([1, 2, 3]), { binary: true })],
      [
        'a subscribe with junk topics',
        (ws) => ws.send('{"type":"subscribe","topics":[1,null,{}]}'),
      ],
      // The socket under ws, written to directly: bytes that are no WebSocket frame.
      [
        'raw bytes on the socket',
        (ws) =>
          (ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(
            Buffer.alloc(16, 0xff),
          ),
      ],
    ]
    for (const [name, send] of frames) {
      const ws = new WebSocket(url)
      ws.on('error', () => undefined) // the server may close it: that is the point
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
      const closed = new Promise((resolve) => ws.once('close', resolve))
      send(ws)
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))])
      ws.terminate()
      await alive(name)
    }
    // And a good socket still works after all that.
    const ws = new WebSocket(url)
    await new Promise((resolve) => ws.once('open', resolve))
    const reply = new Promise<string>((resolve) =>
      ws.once('message', (d: Buffer) => resolve(d.toString())),
    )
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['job.state'] }))
    expect(JSON.parse(await reply)).toEqual({ type: 'subscribed', topics: ['job.state'] })
    ws.close()
  }, 120_000)
})
