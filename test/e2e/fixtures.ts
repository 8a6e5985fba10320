import { test as base, expect, type Page } from '@playwright/test'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** The built `frugal` command with `home` as its settings folder; its stdout, or throws with its stderr. */
export function frugal(args: string[], home: string): string {
  const r = spawnSync(process.execPath, ['bin/frugal.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, FRUGAL_HOME: home },
  })
  if (r.status !== 0) throw new Error(`frugal ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

export interface ServeHandle {
  url: string
  port: number
  token: string
  db: string
  /** The folder holding the project file and FRUGAL_HOME. */
  dir: string
  process: ChildProcess
  /** Everything serve wrote to stderr so far. */
  stderr: string[]
}

/** Start the built `frugal serve` on a free port and wait for its JSON line. */
export async function startServe(dir: string, db = join(dir, 'e2e.frugal')): Promise<ServeHandle> {
  const child = spawn(
    process.execPath,
    ['bin/frugal.js', 'serve', '--db', db, '--port', '0', '--json'],
    {
      env: { ...process.env, FRUGAL_HOME: join(dir, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const stderr: string[] = []
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l))
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) =>
      reject(new Error(`serve exited with ${code}: ${stderr.join('\n')}`)),
    )
  })
  const info = JSON.parse(line) as { url: string; port: number; db: string }
  return {
    ...info,
    token: new URL(info.url).searchParams.get('token')!,
    dir,
    process: child,
    stderr,
  }
}

/**
 * Stop a serve started by startServe. A handle that never came to be (the setup failed
 * before, and a `let serve: ServeHandle` is still undefined) is nothing to stop: the
 * setup's own error is the one to see, not a TypeError from this cleanup.
 */
export async function stopServe(handle: ServeHandle | null | undefined): Promise<void> {
  if (!handle) return
  if (handle.process.exitCode !== null || handle.process.signalCode !== null) return
  const exited = new Promise((resolve) => handle.process.once('exit', resolve))
  handle.process.kill('SIGTERM')
  await exited
}

interface Fixtures {
  serve: ServeHandle
  /** Console errors and CSP violations seen by the page: a test ends with none. */
  consoleErrors: string[]
  app: Page
}

export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure their dependencies
  serve: async ({}, use) => {
    const dir = mkdtempSync(join(tmpdir(), 'frugal-e2e-'))
    const handle = await startServe(dir)
    await use(handle)
    await stopServe(handle)
    rmSync(dir, { recursive: true, force: true })
  },
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    page.on('pageerror', (e) => errors.push(e.message))
    await use(errors)
  },
  app: async ({ page, serve, consoleErrors }, use) => {
    await page.goto(serve.url)
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible()
    await use(page)
    expect(consoleErrors, 'the page logged errors').toEqual([])
  },
})

export { expect }
