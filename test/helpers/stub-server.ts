/**
 * `frugal serve`'s HTTP and WebSocket server in a process of its own, with a stub API and
 * a tiny renderer folder: for tests that try to crash it (a crash ends this process, which
 * the test sees). Prints one JSON line `{port, token}` once listening.
 *
 *   node --import tsx test/helpers/stub-server.ts <folder>
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRouter } from '../../src/main/api/router'
import type { ApiHandlers } from '../../src/main/api/types'
import { EventBus } from '../../src/main/events'
import { startServer } from '../../src/main/serve/server'

const dir = process.argv[2]
if (!dir) throw new Error('usage: stub-server.ts <folder>')
const staticDir = join(dir, 'renderer')
mkdirSync(join(staticDir, 'assets'), { recursive: true })
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Frugal</title>')
writeFileSync(join(staticDir, 'assets', 'app-1234.js'), 'console.log(1)')
// A file that stats as a file and fails when read (EIO): a disk error mid-response.
if (existsSync('/proc/self/mem'))
  symlinkSync('/proc/self/mem', join(staticDir, 'assets', 'unreadable.js'))
const router = createRouter({ 'project.current': () => null } as unknown as ApiHandlers)
const server = await startServer({
  router,
  events: new EventBus(),
  staticDir,
  port: 0,
  uploads: { dir: join(dir, 'uploads'), maxBytes: 1024 * 1024 },
})
console.log(JSON.stringify({ port: server.port, token: server.token }))
