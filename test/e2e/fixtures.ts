import { test as base, expect, type Page } from '@playwright/test'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

/**
 * The compute backend every e2e test expects: named, so that the suite means the same on a
 * machine with a GPU (whose ladder would pick it) as on CI's two cores.
 */
export const E2E_BACKEND = 'wasm'

/** The environment of every `frugal` the tests start: `home` as its settings folder. */
export const frugalEnv = (home: string): NodeJS.ProcessEnv => ({
  ...process.env,
  FRUGAL_HOME: home,
  FRUGAL_BACKEND: E2E_BACKEND,
})

/** Run the built `frugal` command: its exit code and what it printed. */
export function runFrugal(
  args: string[],
  home: string,
  cwd?: string,
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [resolve('bin/frugal.js'), ...args], {
    encoding: 'utf8',
    env: frugalEnv(home),
    cwd,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The built `frugal` command; its stdout, or throws with its stderr. */
export function frugal(args: string[], home: string): string {
  const r = runFrugal(args, home)
  if (r.code !== 0) throw new Error(`frugal ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
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
      env: frugalEnv(join(dir, 'home')),
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
