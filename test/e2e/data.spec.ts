import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import type { JobRecord } from '../../src/shared/jobs'
import { Store } from '../../src/store'
import { makeImportFolder } from '../helpers/data-fixtures'
import { takeDocs } from '../helpers/synthetic-corpus'
import { expect, runFrugal, test } from './fixtures'

/** Import by typing a path on the server, as for a folder in a browser. */
async function importPath(app: Page, path: string, dataset: string) {
  await app.getByRole('button', { name: 'Import…' }).click()
  const dialog = app.getByRole('dialog', { name: 'Import data' })
  await dialog.getByLabel('Or a file or folder on the server').fill(path)
  await dialog.getByRole('button', { name: 'Add' }).click()
  await dialog.getByLabel('Dataset').fill(dataset)
  await dialog.getByRole('button', { name: 'Import', exact: true }).click()
  await expect(dialog).toBeHidden()
}

async function cleanAndWait(app: Page) {
  await app
    .getByRole('button', { name: /^Clean/ })
    .first()
    .click()
  await expect(app.getByRole('status', { name: 'Clean dataset' })).toBeVisible()
  await expect(app.getByRole('status', { name: 'Clean dataset' })).toBeHidden({ timeout: 60_000 })
}

test('imports a folder of pages and exports, reports the corrupt files, and explains every decision', async ({
  app,
  serve,
}) => {
  const folder = makeImportFolder(serve.dir)
  await importPath(app, folder.root, 'web')
  await expect(
    app.getByText(/Imported \d+ documents into “web”; 7 records could not be read/),
  ).toBeVisible({ timeout: 30_000 })
  const problems = app.getByRole('table', { name: 'Import problems' })
  await expect(problems.getByRole('row')).toHaveCount(folder.corrupt.length + 1)
  await expect(problems.getByRole('row', { name: /photo\.txt.*Binary file/ })).toBeVisible()
  await expect(problems.getByRole('row', { name: /articles\.jsonl\s+7\s+Bad JSON/ })).toBeVisible()
  await expect(
    problems.getByRole('row', { name: /mixed-encoding\.jsonl\s+2\s+Invalid UTF-8/ }),
  ).toBeVisible()

  await cleanAndWait(app)
  await expect(
    app.getByRole('figure', { name: 'Documents removed or sent to review by each rule' }),
  ).toBeVisible()
  await expect(app.getByRole('figure', { name: 'Documents by detected language' })).toContainText(
    'fr',
  )

  // A bar in the chart opens the documents that rule removed, with the measurement.
  await app.getByRole('button', { name: 'Language identification' }).click()
  await expect(app.getByRole('tab', { name: 'Documents' })).toHaveAttribute('aria-selected', 'true')
  const why = app.getByRole('region', { name: 'Why' })
  await expect(why).toContainText('Removed by the rules')
  await expect(why).toContainText('Language fr is not in the keep-list (en)')

  // The web page kept its article and lost its navigation, cookie banner and footer.
  await app.getByRole('combobox', { name: 'Decided by' }).selectOption('')
  await app.getByLabel('Search').fill('flood defences')
  await app
    .getByRole('listbox', { name: 'Documents' })
    .getByRole('option', { name: /Council approves new flood defences/ })
    .click()
  const text = why.getByLabel('Cleaned text')
  await expect(text).toContainText('Councillors voted by twenty-seven to four')
  for (const boilerplate of [
    'Accept all cookies',
    'Most read',
    'Harbour Gazette Media Ltd',
    'Subscribe to our newsletter',
  ])
    await expect(text).not.toContainText(boilerplate)
  // PII: placeholders in the cleaned text, the original still there.
  await expect(text.locator('mark.redaction')).toHaveText(['<EMAIL>', '<PHONE>'])
  // The import's last events refetch the panel; under load one may land right after the
  // choice (seen once in CI), so choose again until the original shows.
  await expect(async () => {
    await why.getByRole('radio', { name: 'Original' }).check()
    await expect(why.getByLabel('Original text')).toContainText('floodplan@harbourtown.gov.uk', {
      timeout: 2000,
    })
  }).toPass()

  // Export the kept documents as JSON Lines.
  await app.getByRole('button', { name: 'Export…' }).click()
  const out = join(serve.dir, 'kept.jsonl')
  const dialog = app.getByRole('dialog', { name: 'Export web' })
  await dialog.getByLabel('JSON Lines file (kept documents)').fill(out)
  await dialog.getByRole('button', { name: 'Export' }).click()
  await expect(app.getByText(`to ${out}`)).toBeVisible({ timeout: 20_000 })
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status: string; text: string; reasons: unknown[] })
  expect(lines.length).toBeGreaterThan(5)
  expect(lines.every((l) => l.status === 'kept' && Array.isArray(l.reasons))).toBe(true)
  expect(lines.map((l) => l.text).join('\n')).not.toContain('floodplan@harbourtown.gov.uk')
})

test('dropped files are uploaded to the server and imported', async ({ app }) => {
  const files = [
    {
      name: 'posts.jsonl',
      text: takeDocs(30)
        .map((d) => JSON.stringify({ body: d.text, id: d.id }))
        .join('\n'),
    },
    { name: 'notes.txt', text: takeDocs(1, 5)[0].text },
  ]
  await expect(app.getByRole('heading', { name: 'No datasets yet' })).toBeVisible()
  const transfer = await app.evaluateHandle((list) => {
    const dt = new DataTransfer()
    for (const f of list) dt.items.add(new File([f.text], f.name, { type: 'text/plain' }))
    return dt
  }, files)
  await app.locator('.data-screen').dispatchEvent('drop', { dataTransfer: transfer })
  const dialog = app.getByRole('dialog', { name: 'Import data' })
  await expect(dialog.getByRole('list', { name: 'To import' })).toContainText('posts.jsonl')
  await expect(dialog.getByRole('list', { name: 'To import' })).toContainText('notes.txt')
  await expect(dialog.getByLabel('Dataset')).toHaveValue('posts')
  await dialog.getByLabel('Text field').fill('body')
  await dialog.getByRole('button', { name: 'Import', exact: true }).click()
  await expect(app.getByText('Imported 31 documents into “posts”.')).toBeVisible({
    timeout: 30_000,
  })
  await expect(app.getByRole('navigation', { name: 'Datasets' })).toContainText('31 docs')

  // Deleting it: gone from the list at once, its documents removed by a background job.
  await app.getByRole('button', { name: 'Delete posts' }).click()
  await app
    .getByRole('dialog', { name: 'Delete posts?' })
    .getByRole('button', { name: 'Delete dataset' })
    .click()
  await expect(app.getByRole('heading', { name: 'No datasets yet' })).toBeVisible()
})

test('the rule editor: thresholds with defaults, order, and a re-run that follows them', async ({
  app,
  serve,
}) => {
  const folder = makeImportFolder(serve.dir)
  await importPath(app, join(folder.root, 'corpus'), 'corpus')
  await expect(app.getByText(/Imported \d+ documents into “corpus”/)).toBeVisible({
    timeout: 30_000,
  })
  await app.getByRole('tab', { name: 'Rules' }).click()

  const rules = app
    .getByRole('list')
    .filter({ has: app.getByRole('switch', { name: 'Noise stripping on' }) })
  const order = () => rules.locator('.rule-title strong').allTextContents()
  expect((await order()).at(-1)).toBe('PII redaction')
  // Reorder by keyboard: focus stays on the button, so Enter twice moves it twice.
  await app.getByRole('button', { name: 'Move PII redaction up' }).focus()
  await app.keyboard.press('Enter')
  await app.keyboard.press('Enter')
  expect((await order()).slice(-3)).toEqual(['PII redaction', 'Character heuristics', 'Blocklist'])

  await app.getByRole('button', { name: 'C4 filters', exact: true }).click()
  const minSentences = app.getByLabel('Min sentences')
  await expect(minSentences).toHaveValue('5')
  await expect(minSentences).toHaveAccessibleDescription('Default 5')
  await minSentences.fill('1')
  await app.getByRole('switch', { name: 'Language identification on' }).uncheck()
  await expect(app.getByRole('status').filter({ hasText: 'Unsaved changes' })).toBeVisible()
  await app.getByRole('button', { name: 'Save and clean' }).click()
  // The overview's chart is the clean's end: waiting for the job's status to go could pass
  // before the status has even appeared.
  await expect(
    app.getByRole('figure', { name: 'Documents removed or sent to review by each rule' }),
  ).toBeVisible({ timeout: 60_000 })
  await expect(app.getByRole('status', { name: 'Clean dataset' })).toBeHidden()

  // Overview: no language removals, and no document removed for too few sentences.
  await expect(
    app.getByRole('figure', { name: 'Documents removed or sent to review by each rule' }),
  ).not.toContainText('Language identification')
  await app.getByRole('tab', { name: 'Documents' }).click()
  await app.getByRole('combobox', { name: 'Decided by' }).selectOption('c4')
  // Wait for the filtered page (the previous one stays on screen while it loads).
  await expect(app.getByRole('region', { name: 'Documents' })).toHaveAttribute('aria-busy', 'false')
  for (const option of await app
    .getByRole('listbox', { name: 'Documents' })
    .getByRole('option')
    .all()) {
    await option.click()
    await expect(app.getByRole('region', { name: 'Why' })).not.toContainText('min_sentences')
  }
  // The saved set is the dataset's now.
  await app.getByRole('tab', { name: 'Rules' }).click()
  await expect(app.getByText('Using “corpus rules”')).toBeVisible()
  await expect(app.getByLabel('Rule set name')).toHaveValue('corpus rules')
})

test('a reviewer decision overrides the rules and the model retrains on request', async ({
  app,
  serve,
}) => {
  const file = join(serve.dir, 'crawl.jsonl')
  writeFileSync(
    file,
    takeDocs(400)
      .map((d) => JSON.stringify({ text: d.text }))
      .join('\n'),
  )
  await importPath(app, file, 'crawl')
  await expect(app.getByText('Imported 400 documents into “crawl”.')).toBeVisible({
    timeout: 30_000,
  })
  await cleanAndWait(app)
  await expect(app.getByRole('figure', { name: 'Documents by quality score' })).toBeVisible()
  const model = app.getByRole('definition').filter({ hasText: /on the rules’ decisions/ })
  await expect(model).toBeVisible()

  await app.getByRole('tab', { name: 'Documents' }).click()
  await app.getByRole('combobox', { name: 'Status' }).selectOption('removed')
  await app.getByRole('listbox', { name: 'Documents' }).getByRole('option').first().click()
  const why = app.getByRole('region', { name: 'Why' })
  await why.getByRole('button', { name: 'Keep', exact: true }).click()
  await expect(why.getByText(/Kept\s+by you \(the pipeline said removed\)/)).toBeVisible()
  await expect(why.getByRole('button', { name: 'Keep', exact: true })).toHaveAttribute(
    'aria-pressed',
    'true',
  )

  await app.getByRole('tab', { name: 'Overview' }).click()
  await expect(
    app.getByText('Your decisions: 1 keep, 0 remove (1 new since training)'),
  ).toBeVisible()
  await app.getByRole('button', { name: 'Retrain now' }).click()
  await expect(app.getByText(/on your decisions and the rules’ decisions \(/)).toBeVisible({
    timeout: 60_000,
  })
  await expect(app.getByText('Your decisions: 1 keep, 0 remove')).toBeVisible()
})

test('a cancelled import leaves no dataset behind', async ({ app, serve }) => {
  // Large enough that the import is still running when Cancel lands: with 300,000 lines an
  // idle CI machine finished it first (seen once). About 60 MB, written in pieces.
  const file = join(serve.dir, 'big.jsonl')
  writeFileSync(file, '')
  for (let part = 0; part < 15; part++)
    appendFileSync(
      file,
      Array.from({ length: 100_000 }, (_, i) =>
        JSON.stringify({ text: `Line ${part * 100_000 + i} of a large export.` }),
      ).join('\n') + '\n',
    )
  await importPath(app, file, 'big')
  const card = app.getByRole('status', { name: 'Importing into “big”' })
  await expect(card).toContainText(/documents/, { timeout: 20_000 })
  await card.getByRole('button', { name: 'Cancel' }).click()
  await expect(app.getByText('The import into “big” was cancelled; nothing was kept.')).toBeVisible(
    { timeout: 20_000 },
  )
  await expect(app.getByRole('heading', { name: 'No datasets yet' })).toBeVisible()
})

test('the CLI imports, cleans, exports and reports statistics as JSON', ({ serve }) => {
  const folder = makeImportFolder(serve.dir)
  const db = join(serve.dir, 'cli.frugal')
  const frugal = (...args: string[]) => {
    const r = runFrugal([...args, '--db', db], join(serve.dir, 'home'))
    return {
      code: r.code,
      json: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : null,
      stderr: r.stderr,
    }
  }
  runFrugal(['project', 'create', db], join(serve.dir, 'home'))
  const imported = frugal('data', 'import', folder.root, '--dataset', 'web', '--json')
  expect(imported.code).toBe(0)
  expect(imported.json).toMatchObject({ dataset: 'web', skipped: folder.corrupt.length })
  expect(imported.json!.errors).toEqual(
    expect.arrayContaining(
      folder.corrupt.map((c) => expect.objectContaining({ file: c.file, line: c.line })),
    ),
  )
  const cleaned = frugal('data', 'clean', '--dataset', 'web', '--json')
  expect(cleaned.code).toBe(0)
  expect(cleaned.json).toMatchObject({
    kept: expect.any(Number),
    removed: expect.any(Number),
    modified: expect.any(Number),
    review: expect.any(Number),
  })
  expect(Object.keys(cleaned.json!.byRule as object)).toEqual(
    expect.arrayContaining(['language', 'dedup_exact']),
  )
  const out = join(serve.dir, 'all.jsonl')
  expect(
    frugal('data', 'export', '--dataset', 'web', '--status', 'all', '--out', out, '--json').json,
  ).toMatchObject({ path: out })
  const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]) as Record<string, unknown>
  expect(Object.keys(first)).toEqual(
    expect.arrayContaining(['id', 'source', 'text', 'status', 'reasons']),
  )
  // An existing file is replaced only when asked.
  const again = frugal('data', 'export', '--dataset', 'web', '--out', out, '--json')
  expect(again.code).toBe(1)
  expect(again.json).toMatchObject({ error: { code: 'conflict' } })
  const kept = frugal('data', 'export', '--dataset', 'web', '--out', out, '--overwrite', '--json')
  expect(kept.json).toMatchObject({
    path: out,
    documents: (cleaned.json!.kept as number) + (cleaned.json!.modified as number),
  })
  expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(kept.json!.documents as number)
  const stats = frugal('data', 'stats', '--dataset', 'web', '--json')
  expect(stats.json).toMatchObject({
    documents: imported.json!.imported,
    duplicates: { clusters: expect.any(Number) },
  })
  // Past 8 MB, files are parsed on reader threads: the build's own import-thread.js.
  const big = join(serve.dir, 'big.jsonl')
  writeFileSync(
    big,
    Array.from({ length: 120_000 }, (_, i) =>
      JSON.stringify({ text: `Line ${i + 1} of a large export, long enough for eight megabytes.` }),
    ).join('\n'),
  )
  expect(statSync(big).size).toBeGreaterThan(8 * 1024 * 1024)
  expect(frugal('data', 'import', big, '--dataset', 'big', '--json').json).toMatchObject({
    dataset: 'big',
    imported: 120_000,
    skipped: 0,
  })
  const bigOut = join(serve.dir, 'big-out.jsonl')
  frugal('data', 'export', '--dataset', 'big', '--status', 'all', '--out', bigOut, '--json')
  const lines = readFileSync(bigOut, 'utf8').trim().split('\n')
  // In file order, as read on one thread.
  const sourceOf = (line: string) => (JSON.parse(line) as { source: string }).source
  expect(lines).toHaveLength(120_000)
  expect([sourceOf(lines[0]), sourceOf(lines[119_999])]).toEqual([`${big}:1`, `${big}:120000`])
  const missing = frugal('data', 'stats', '--dataset', 'nope', '--json')
  expect(missing.code).toBe(1)
  expect(missing.json).toMatchObject({ error: { code: 'not_found' } })

  // Deleting a dataset takes its documents; the name is then unknown.
  expect(frugal('data', 'delete', '--dataset', 'big', '--json').json).toEqual({
    dataset: 'big',
    documents: 120_000,
  })
  const names = (frugal('data', 'list', '--json').json as unknown as { name: string }[]).map(
    (d) => d.name,
  )
  expect(names).toEqual(['web'])
  expect(frugal('data', 'delete', '--dataset', 'big', '--json').json).toMatchObject({
    error: { code: 'not_found' },
  })
  // A dataset that a job of another process holds is not deleted.
  const store = Store.open(db)
  const webId = store.datasets.byName('web')!.id
  const now = new Date().toISOString()
  const job: JobRecord = {
    id: 'other-process-export',
    kind: 'data.export',
    params: { datasetId: webId },
    state: 'running',
    progress: null,
    result: null,
    error: null,
    createdAt: now,
    startedAt: now,
    finishedAt: null,
  }
  store.jobs.insert(job, process.pid)
  const busy = frugal('data', 'delete', '--dataset', 'web', '--json')
  expect(busy.code).toBe(1)
  expect(busy.stderr).toContain('"web" is busy (export in progress)')
  store.jobs.update({ ...job, state: 'succeeded', finishedAt: now })
  // A deletion cut short (marked, not run) is finished by naming the dataset again.
  store.datasets.markForDeletion(webId, now)
  store.close()
  expect(frugal('data', 'delete', '--dataset', 'web', '--json').json).toEqual({
    dataset: 'web',
    documents: imported.json!.imported,
  })
  expect(frugal('data', 'list', '--json').json).toEqual([])
})
