import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store'
import { E2E_BACKEND, expect, startServe, stopServe, test, type ServeHandle } from './fixtures'
import { addDocuments } from '../helpers/documents'

/** Processes whose parent is `pid` (Linux /proc), to find a job's worker. */
function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid
      } catch {
        return false
      }
    })
    .map(Number)
}

let serve: ServeHandle
let dir: string
const texts = Array.from({ length: 1234 }, (_, i) => `Document ${i}: ${'lorem '.repeat(i % 7)}`)

test.beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'frugal-e2e-jobs-'))
  const db = join(dir, 'corpus.frugal')
  const store = Store.create(db)
  const id = store.datasets.create('web pages', new Date().toISOString())
  addDocuments(
    store,
    id,
    texts.map((text, i) => ({ source: `page-${i}.html`, text })),
  )
  store.close()
  serve = await startServe(dir, db)
})

test.afterEach(async () => {
  await stopServe(serve)
  rmSync(dir, { recursive: true, force: true })
})

test('cleans a dataset in a worker process and shows the result', async ({ page }) => {
  await page.goto(serve.url)
  const datasets = page.getByRole('navigation', { name: 'Datasets' })
  await expect(datasets.getByRole('button', { name: /web pages/ })).toContainText('1,234 docs')
  const characters = texts.reduce((n, t) => n + t.length, 0)
  await expect(page.getByRole('list', { name: 'Dataset size' })).toContainText(
    characters.toLocaleString('en-US'),
  )
  await page.getByRole('button', { name: 'Clean', exact: true }).click()
  await expect(page.getByText(/^Cleaned /)).toBeVisible({
    timeout: 30_000,
  })

  await page.getByTestId('status-jobs').click()
  const panel = page.getByRole('dialog', { name: 'Jobs' })
  await expect(panel.getByRole('listitem', { name: 'Clean dataset' }).first()).toContainText(
    'succeeded',
  )
})

test('a worker killed mid-job fails its job with the reason, and the next job runs', async ({
  page,
}) => {
  test.setTimeout(120_000)
  await page.goto(serve.url)
  await page.keyboard.press('Control+7')
  // A stuck start-up probe is retried after 30 s (BackendMonitor): allow for one.
  await expect(page.getByTestId('status-backend')).toContainText(E2E_BACKEND, { timeout: 60_000 })
  await page.getByRole('button', { name: 'Measure speed' }).click()
  await expect(page.getByRole('progressbar', { name: 'Benchmark progress' })).toBeVisible()
  await expect(page.getByTestId('status-jobs')).toContainText('Measure backend speed')

  // The start-up probe's worker may still be exiting: wait until only the benchmark's is left.
  await expect.poll(() => childPids(serve.process.pid!).length).toBe(1)
  process.kill(childPids(serve.process.pid!)[0], 'SIGKILL')

  await expect(page.getByRole('alert')).toContainText('The worker process was killed (SIGKILL)')
  await expect(page.getByTestId('status-jobs')).toHaveText('No jobs running')

  await page.keyboard.press('Control+1')
  await page.getByRole('button', { name: 'Clean', exact: true }).click()
  await expect(page.getByText(/^Cleaned /)).toBeVisible({ timeout: 30_000 })
})

test('measures the backend speed and charts it live', async ({ page }) => {
  test.setTimeout(120_000)
  await page.goto(serve.url)
  await page.keyboard.press('Control+7')
  await expect(page.getByTestId('status-backend')).toContainText(E2E_BACKEND, { timeout: 60_000 })
  await page.getByRole('button', { name: 'Measure speed' }).click()
  await expect(page.locator('figure.chart canvas')).toBeVisible()
  await expect(page.getByText(/GFLOP\/s/).first()).toBeVisible()
  await expect(page.getByText(/median of \d+ products of 512×512 matrices/)).toBeVisible({
    timeout: 20_000,
  })
})
