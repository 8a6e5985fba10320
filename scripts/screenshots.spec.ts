/**
 * Regenerates docs/screenshots/*.png from the real app: `npm run screenshots`.
 * Not part of `npm test`: it asserts nothing, it takes pictures.
 */
import { test, type Page } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { externalDataPath, tinyShakespeare } from '../bench/external-data'
import { Store } from '../src/store'
import { startServe, stopServe } from '../test/e2e/fixtures'
import { addDocuments } from '../test/helpers/documents'
import { sqlOf } from '../test/helpers/sql'

const out = (name: string) => join('docs', 'screenshots', `${name}.png`)
const shot = async (page: Page, name: string) => {
  await page.locator('main').evaluate((el) => el.scrollTo(0, 0))
  await page.mouse.move(0, 0)
  await page.screenshot({ path: out(name), animations: 'disabled' })
}

/** A synthetic web crawl as JSON Lines: `n` documents from the tests' seeded generator. */
async function writeCrawl(path: string, n: number): Promise<string> {
  const { takeDocs } = await import('../test/helpers/synthetic-corpus')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(
    path,
    takeDocs(n, 7)
      .map((d) => JSON.stringify({ text: d.text }))
      .join('\n'),
  )
  return path
}

/** Import and clean `paths` into a dataset of the store, in this process, as a job would. */
async function importAndClean(store: Store, dataset: string, paths: string[]): Promise<number> {
  const { runImport } = await import('../src/worker/data/import/importer')
  const { runClean } = await import('../src/worker/data/pipeline/clean')
  const { defaultRuleSet } = await import('../src/shared/data/rules')
  const deps = {
    store,
    jobId: 'screenshots',
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
    throwIfCancelled: () => undefined,
    threads: 0,
  }
  const { datasetId } = await runImport({ dataset, paths, format: 'auto' }, deps)
  await runClean(datasetId, defaultRuleSet(), deps)
  return datasetId
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
    addDocuments(
      store,
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

test('data screen screenshots', async ({ page }) => {
  test.setTimeout(240_000)
  const { fixturesDir } = await import('../test/helpers/data-fixtures')
  const dir = mkdtempSync(join(tmpdir(), 'frugal-shots-data-'))
  const db = join(dir, 'Corpus.frugal')
  const crawl = await writeCrawl(join(dir, 'crawl-2024-05.jsonl'), 3000)
  const store = Store.create(db)
  await importAndClean(store, 'web-pages', [fixturesDir])
  await importAndClean(store, 'crawl-2024-05', [crawl])
  store.close()
  const serve = await startServe(dir, db)
  try {
    // Taller than the shell shots: the overview's charts are the point.
    await page.setViewportSize({ width: 1280, height: 1000 })
    await page.goto(serve.url)
    const datasets = page.getByRole('navigation', { name: 'Datasets' })
    await datasets.getByRole('button', { name: /crawl-2024-05/ }).click()
    await page.getByRole('figure', { name: 'Documents by quality score' }).waitFor()
    await shot(page, 'data-overview-light')

    await page.getByRole('tab', { name: 'Rules' }).click()
    await page.getByRole('button', { name: 'Gopher quality', exact: true }).click()
    await page.getByLabel('Minimum words').fill('40')
    await shot(page, 'data-rules-light')

    await page.getByRole('button', { name: 'Import…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Import data' })
    await dialog.getByLabel('Or a file or folder on the server').fill('/data/crawl/2024-06/')
    await dialog.getByRole('button', { name: 'Add' }).click()
    await dialog.getByLabel('Dataset').fill('crawl-2024-06')
    await shot(page, 'data-import-light')
    await dialog.getByRole('button', { name: 'Cancel' }).click()

    await page.keyboard.press('Control+7')
    await page.getByLabel('Dark').check()
    await page.keyboard.press('Control+1')
    await datasets.getByRole('button', { name: /web-pages/ }).click()
    await page.getByRole('tab', { name: 'Documents' }).click()
    await page.getByLabel('Search').fill('repair')
    await page.getByRole('region', { name: 'Why' }).getByText('Community notice').first().waitFor()
    await shot(page, 'data-documents-dark')
    await page.getByRole('tab', { name: 'Overview' }).click()
    await page.getByRole('figure', { name: 'Documents by detected language' }).waitFor()
    await shot(page, 'data-overview-dark')
  } finally {
    await stopServe(serve)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('train screen screenshots', async ({ page }) => {
  test.setTimeout(600_000)
  const { readFileSync } = await import('node:fs')
  const { trainChar } = await import('../src/worker/tokenizer')
  const dir = mkdtempSync(join(tmpdir(), 'frugal-shots-train-'))
  const db = join(dir, 'Shakespeare.frugal')
  const text = readFileSync(externalDataPath(tinyShakespeare), 'utf8')
  const store = Store.create(db)
  const id = store.datasets.create('tiny-shakespeare', new Date().toISOString())
  // Acts as documents, so the validation split holds out whole ones.
  addDocuments(
    store,
    id,
    text.split(/\n(?=[A-Z ]+:\n)/).map((t, i) => ({ source: `speech-${i}`, text: t })),
  )
  const { tokenizer } = await trainChar([text])
  store.tokenizers.insert({
    name: 'shakespeare-char',
    kind: 'char',
    vocabSize: tokenizer.vocabSize,
    datasetId: id,
    options: { kind: 'char' },
    stats: null,
    json: tokenizer.serialize(),
    createdAt: new Date().toISOString(),
  })
  store.close()
  const serve = await startServe(dir, db)
  const field = (path: string) => page.locator(`[data-field="${path}"]`)
  try {
    await page.setViewportSize({ width: 1280, height: 1000 })
    await page.goto(serve.url)
    await page.keyboard.press('Control+4')
    await page.getByRole('link', { name: 'New run' }).first().click()
    await page.getByRole('radio', { name: /Tiny dense/ }).click()
    await page.getByLabel('Run name').fill('dense-baseline')
    await field('contextLength').fill('64')
    await field('steps').fill('150')
    await field('evalEvery').fill('50')
    await page.getByRole('button', { name: 'Create and start' }).click()
    await page
      .getByRole('region', { name: 'Progress', exact: true })
      .getByText('completed')
      .waitFor({ timeout: 300_000 })

    await page.keyboard.press('Control+4')
    await page.getByRole('link', { name: 'New run' }).first().click()
    await page.getByRole('radio', { name: /Tiny MoE/ }).click()
    await page.getByLabel('Run name').fill('moe-aux-free')
    await field('contextLength').fill('64')
    await field('steps').fill('2000')
    await field('evalEvery').fill('50')
    await page.getByRole('button', { name: 'Time a step on this machine' }).click()
    await page.getByText(/ms per step/).waitFor({ timeout: 60_000 })
    await shot(page, 'train-new-run-light')
    await page.getByRole('button', { name: 'Create and start' }).click()
    await page.getByRole('figure', { name: /^Loss: latest \d/ }).waitFor({ timeout: 60_000 })
    // Mid-run: enough steps for the curves and the expert-load heatmap to say something.
    await page
      .getByRole('region', { name: 'Progress', exact: true })
      .getByText(/step (1[5-9]\d|[2-9]\d\d)\b/)
      .waitFor({ timeout: 300_000 })
    await shot(page, 'train-run-light')
    await page.keyboard.press('Control+7')
    await page.getByLabel('Dark').check()
    await page.goBack()
    await page.getByRole('figure', { name: /^Loss: latest \d/ }).waitFor()
    await shot(page, 'train-run-dark')
    // Further down: the expert-load heatmap, its heading at the top of the view.
    await page
      .getByRole('heading', { name: 'Expert load' })
      .evaluate((el) => el.scrollIntoView({ block: 'start' }))
    await page.screenshot({ path: out('train-experts-dark'), animations: 'disabled' })
    await page.getByRole('button', { name: /^Stop / }).click()
    await page
      .getByRole('region', { name: 'Progress', exact: true })
      .getByText('stopped')
      .waitFor({ timeout: 60_000 })
    await page.getByRole('link', { name: 'All runs' }).click()
    await page.getByLabel('Select dense-baseline for comparison').check()
    await page.getByLabel('Select moe-aux-free for comparison').check()
    await page.getByRole('button', { name: 'Compare (2)' }).click()
    await page.getByRole('table', { name: 'Settings that differ' }).waitFor()
    await shot(page, 'train-compare-dark')
    await page.keyboard.press('Control+4')
    await page.getByRole('link', { name: 'Cost report' }).click()
    await page.getByRole('table', { name: /^Cost report: tiny-shakespeare/ }).waitFor()
    await shot(page, 'train-cost-report-dark')
  } finally {
    await stopServe(serve)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('review screen screenshots', async ({ page }) => {
  test.setTimeout(300_000)
  const dir = mkdtempSync(join(tmpdir(), 'frugal-shots-review-'))
  const db = join(dir, 'Corpus.frugal')
  const crawl = await writeCrawl(join(dir, 'crawl-2024-05.jsonl'), 2500)
  const store = Store.create(db)
  const datasetId = await importAndClean(store, 'crawl-2024-05', [crawl])
  const now = new Date().toISOString()
  for (const [name, key, color] of [
    ['boilerplate', '1', '#dc2626'],
    ['spam', '2', '#ea580c'],
    ['travel', '3', '#0891b2'],
  ] as const)
    store.review.saveLabel(datasetId, { name, key, color }, now)
  // The dark shot opens on a document that cleaning changed: redactions and stripped junk.
  const changed = sqlOf(store)
    .prepare<[number], { id: number }>(
      `SELECT id FROM documents WHERE dataset_id = ? AND modified = 1 AND redactions != '[]'
       AND status = 'kept' ORDER BY length(text) LIMIT 1`,
    )
    .get(datasetId)
  if (changed) store.review.savePosition({ datasetId, source: { kind: 'all' } }, changed.id, now)
  store.close()
  const serve = await startServe(dir, db)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(serve.url)
    await page.keyboard.press('Control+2')
    const heading = page
      .getByRole('region', { name: 'Document' })
      .getByRole('heading', { level: 3 })
    await heading.waitFor()
    for (const key of ['a', 'x', 'a', 'a', '1', 'x', 'a']) {
      const before = await heading.textContent()
      await page.keyboard.press(key)
      if (key !== '1')
        await page.waitForFunction(
          ([sel, text]) => document.querySelector(sel)?.textContent !== text,
          ['.review-doc-head h3', before] as const,
        )
      else await page.waitForTimeout(300)
    }
    await page.mouse.move(0, 0)
    await page.screenshot({ path: out('review-light'), animations: 'disabled' })

    await page.keyboard.press('Control+7')
    await page.getByLabel('Dark').check()
    await page.keyboard.press('Control+2')
    await page.getByLabel('Queue', { exact: true }).selectOption({ label: 'All documents' })
    await page.getByRole('radio', { name: 'Changes' }).check()
    await page.locator('.review-text mark.redaction').first().waitFor()
    await page.mouse.move(0, 0)
    await page.screenshot({ path: out('review-dark'), animations: 'disabled' })
  } finally {
    await stopServe(serve)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('evaluate and models screenshots', async ({ page }) => {
  test.setTimeout(900_000)
  const { readFileSync, writeFileSync } = await import('node:fs')
  const { spawnSync } = await import('node:child_process')
  const { trainChar } = await import('../src/worker/tokenizer')
  const dir = mkdtempSync(join(tmpdir(), 'frugal-shots-eval-'))
  const db = join(dir, 'Shakespeare.frugal')
  const text = readFileSync(externalDataPath(tinyShakespeare), 'utf8')
  const store = Store.create(db)
  const id = store.datasets.create('tiny-shakespeare', new Date().toISOString())
  addDocuments(
    store,
    id,
    text.split(/\n(?=[A-Z ]+:\n)/).map((t, i) => ({ source: `speech-${i}`, text: t })),
  )
  const { tokenizer } = await trainChar([text])
  store.tokenizers.insert({
    name: 'shakespeare-char',
    kind: 'char',
    vocabSize: tokenizer.vocabSize,
    datasetId: id,
    options: { kind: 'char' },
    stats: null,
    json: tokenizer.serialize(),
    createdAt: new Date().toISOString(),
  })
  store.close()
  // Two small runs from the CLI: a dense one and a mixture of experts.
  const model = { contextLength: 64, layers: 4, heads: 4, width: 64 }
  for (const [name, m] of Object.entries({
    'dense-small': model,
    'moe-small': { ...model, moe: { routedExperts: 8, sharedExperts: 1, topK: 2 } },
  })) {
    const config = join(dir, `${name}.json`)
    writeFileSync(
      config,
      JSON.stringify({
        name,
        data: { dataset: 'tiny-shakespeare', tokenizer: 'shakespeare-char' },
        model: m,
        train: { steps: 400, batchSize: 16, learningRate: 0.003, evalEvery: 200 },
      }),
    )
    const r = spawnSync(
      process.execPath,
      ['bin/frugal.js', 'train', '--config', config, '--db', db],
      {
        env: { ...process.env, FRUGAL_HOME: join(dir, 'home') },
      },
    )
    if (r.status !== 0) throw new Error(String(r.stderr))
  }
  const serve = await startServe(dir, db)
  try {
    await page.setViewportSize({ width: 1280, height: 1000 })
    await page.goto(serve.url)
    await page.keyboard.press('Control+5')
    const playground = page.getByRole('region', { name: 'Playground' })
    await playground.getByLabel('Run').selectOption({ label: 'moe-small' })
    await playground.getByLabel('Prompt').fill('ROMEO:\n')
    await playground.getByLabel('Stop sequences').fill('\\n\\n')
    await playground.getByRole('button', { name: 'Generate' }).click()
    await playground
      .getByRole('log', { name: 'Generated text' })
      .and(page.locator('[data-state="done"]'))
      .waitFor({ timeout: 120_000 })
    await playground.getByRole('radio', { name: '3 of 5' }).check()
    await playground.getByRole('button', { name: 'fluent' }).click()
    await shot(page, 'evaluate-playground-light')

    await page.getByRole('tab', { name: 'A/B comparison' }).click()
    const ab = page.getByRole('region', { name: 'A/B comparison' })
    await ab
      .getByRole('group', { name: 'Model A' })
      .getByLabel('Run')
      .selectOption({ label: 'dense-small' })
    await ab
      .getByRole('group', { name: 'Model B' })
      .getByLabel('Run')
      .selectOption({ label: 'moe-small' })
    await ab.getByLabel('Prompt').fill('KING HENRY:\n')
    await ab.getByLabel('Max tokens').fill('120')
    await ab.getByLabel('Seed').fill('3')
    await ab.getByRole('button', { name: 'Generate both' }).click()
    for (const side of ['A', 'B'])
      await ab
        .getByRole('log', { name: `Output ${side}` })
        .and(page.locator('[data-state="done"]'))
        .waitFor({ timeout: 120_000 })
    await ab.getByRole('radio', { name: 'B is better' }).check()
    await ab.getByRole('button', { name: 'Save preference' }).click()
    await ab.getByLabel('Win rate').waitFor()
    await shot(page, 'evaluate-compare-light')

    await page.getByRole('tab', { name: 'Attention & routing' }).click()
    const inspect = page.getByRole('region', { name: 'Attention and routing' })
    await inspect.getByLabel('Run').selectOption({ label: 'moe-small' })
    await inspect.getByLabel('Prompt').fill('To be, or not to be')
    await inspect.getByRole('button', { name: 'Inspect' }).click()
    await inspect.getByRole('table', { name: 'Expert routing' }).waitFor({ timeout: 60_000 })
    await inspect.getByRole('combobox', { name: 'Layer' }).selectOption('3')
    await shot(page, 'evaluate-inspect-light')

    await page.keyboard.press('Control+6')
    await page.getByRole('button', { name: 'Perplexity…' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Measure' }).click()
    await page
      .getByRole('table', { name: 'Evaluations' })
      .getByText(/perplexity [\d.]+/)
      .waitFor({ timeout: 120_000 })
    await page.keyboard.press('Control+7')
    await page.getByLabel('Dark').check()
    await page.goBack()
    await page.getByRole('table', { name: 'Evaluations' }).waitFor()
    await shot(page, 'models-dark')
  } finally {
    await stopServe(serve)
    rmSync(dir, { recursive: true, force: true })
  }
})
