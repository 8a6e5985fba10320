/**
 * Regenerates docs/screenshots/*.png from the real app: `npm run screenshots`.
 * Not part of `npm test`: it asserts nothing, it takes pictures.
 */
import { test, type Page } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../src/store'
import { startServe, stopServe } from '../test/e2e/fixtures'

const out = (name: string) => join('docs', 'screenshots', `${name}.png`)
const shot = async (page: Page, name: string) => {
  await page.locator('main').evaluate((el) => el.scrollTo(0, 0))
  await page.mouse.move(0, 0)
  await page.screenshot({ path: out(name), animations: 'disabled' })
}

test('app shell screenshots', async ({ page }) => {
  test.setTimeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'frugal-shots-'))
  const db = join(dir, 'Shakespeare.frugal')
  const store = Store.create(db)
  for (const [name, n] of [
    ['tiny-shakespeare', 40_000],
    ['web-crawl-2026-10', 12_500],
  ] as const) {
    const id = store.datasets.create(name, new Date().toISOString())
    store.datasets.insertDocuments(
      id,
      Array.from({ length: n }, (_, i) => ({ source: `${name}/${i}`, text: `line ${i}` })),
    )
  }
  store.close()
  const serve = await startServe(dir, db)
  try {
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.goto(serve.url)
    await page.getByTestId('status-backend').getByText('wasm').waitFor()
    await shot(page, 'data-light')

    await page.keyboard.press('Control+7')
    await page.getByRole('button', { name: 'Measure speed' }).click()
    await page.getByText(/median of \d+ products/).waitFor({ timeout: 30_000 })
    await shot(page, 'settings-light')
    await page.getByLabel('Dark').check()
    await shot(page, 'settings-dark')
    await page.keyboard.press('Control+4')
    await shot(page, 'train-empty-dark')
  } finally {
    await stopServe(serve)
    rmSync(dir, { recursive: true, force: true })
  }
})
