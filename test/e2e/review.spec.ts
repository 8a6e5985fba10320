import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { Store } from '../../src/store'
import { takeDocs } from '../helpers/synthetic-corpus'
import {
  expect,
  frugal as runBuiltFrugal,
  startServe,
  stopServe,
  test,
  type ServeHandle,
} from './fixtures'
import { sqlOf } from '../helpers/sql'

let dir: string
let db: string
let serve: ServeHandle | null = null

/** The built `frugal` command, for seeding the project as a user would. */
function frugal(args: string[]): void {
  runBuiltFrugal(args, join(dir, 'home'))
}

test.beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'frugal-e2e-review-'))
  db = join(dir, 'review.frugal')
  const corpus = join(dir, 'crawl.jsonl')
  writeFileSync(
    corpus,
    takeDocs(1200, 11)
      .map((d) => JSON.stringify({ text: d.text }))
      .join('\n'),
  )
  frugal(['project', 'create', db])
  frugal(['data', 'import', corpus, '--dataset', 'crawl', '--db', db])
  frugal(['data', 'clean', '--dataset', 'crawl', '--db', db])
  // A label to toggle with key 1 (labels are set up once, then used by key).
  const store = Store.open(db)
  store.review.saveLabel(
    1,
    { name: 'boilerplate', key: '1', color: '#dc2626' },
    new Date().toISOString(),
  )
  store.close()
})

test.afterEach(async () => {
  if (serve) await stopServe(serve)
  serve = null
  rmSync(dir, { recursive: true, force: true })
})

/** The id of the document on screen. */
async function shownId(page: Page): Promise<number> {
  const heading = page.getByRole('region', { name: 'Document' }).getByRole('heading', { level: 3 })
  await expect(heading).toHaveText(/^#\d+$/)
  return Number((await heading.textContent())!.slice(1))
}

/** Wait until the document on screen is not `id`. */
async function movedFrom(page: Page, id: number): Promise<number> {
  const heading = page.getByRole('region', { name: 'Document' }).getByRole('heading', { level: 3 })
  await expect(heading).not.toHaveText(`#${id}`)
  return shownId(page)
}

const status = (page: Page) => page.locator('.review-status')

test('reviews with the keyboard alone: keep, remove, skip, undo, label, note, bulk; all of it in the file and the export', async ({
  page,
}) => {
  test.setTimeout(180_000)
  serve = await startServe(dir, db)
  await page.goto(serve.url)
  await page.keyboard.press('Control+2')
  await expect(page.getByRole('heading', { level: 1, name: 'Review' })).toBeVisible()
  await expect(page.getByLabel('Queue', { exact: true })).toContainText('Needs review')

  // a: keep and advance.
  const first = await shownId(page)
  await page.keyboard.press('a')
  const second = await movedFrom(page, first)
  await expect(status(page)).toHaveText(`Kept #${first}.`)
  // x: remove and advance.
  await page.keyboard.press('x')
  const third = await movedFrom(page, second)
  await expect(status(page)).toHaveText(`Removed #${second}.`)
  // Space: skip, no decision.
  await page.keyboard.press(' ')
  const fourth = await movedFrom(page, third)
  // u: undo the removal; the document it touched comes back, undecided.
  await page.keyboard.press('u')
  await expect(
    page.getByRole('region', { name: 'Document' }).getByRole('heading', { level: 3 }),
  ).toHaveText(`#${second}`)
  await expect(page.getByRole('region', { name: 'Document' })).toContainText('review')
  // Ctrl+Shift+Z: redo it.
  await expect(status(page)).toHaveText(`Undone: Removed #${second}.`)
  await page.keyboard.press('Control+Shift+Z')
  await expect(status(page)).toHaveText(`Redone: Removed #${second}.`)
  // 1: toggle the label; n: a note, saved with Enter.
  await page.keyboard.press('1')
  await expect(page.getByRole('button', { name: /boilerplate/ })).toHaveAttribute(
    'aria-pressed',
    'true',
  )
  await page.keyboard.press('n')
  await page.keyboard.type('menu text left in')
  await page.keyboard.press('Enter')
  await expect(status(page)).toHaveText(`Note on #${second}.`)
  // j / k: next and previous in queue order.
  await page.keyboard.press('j')
  const after = await movedFrom(page, second)
  await page.keyboard.press('k')
  await expect(
    page.getByRole('region', { name: 'Document' }).getByRole('heading', { level: 3 }),
  ).toHaveText(`#${second}`)
  expect([third, fourth]).toContain(after)

  // Every decision is in the project file, as soon as it shows.
  const store = Store.open(db)
  const decision = (id: number) =>
    sqlOf(store)
      .prepare<[number], { decision: string | null; note: string }>(
        'SELECT decision, note FROM document_decisions WHERE document_id = ?',
      )
      .get(id)
  expect(decision(first)?.decision).toBe('keep')
  expect(decision(second)).toEqual({ decision: 'remove', note: 'menu text left in' })
  expect(decision(third)?.decision ?? null).toBeNull()
  store.close()

  // Bulk, from the keyboard: search the queue, then remove everything it matches.
  await page.keyboard.press('/')
  await page.keyboard.type('harbour')
  await page.keyboard.press('Escape')
  await page.getByRole('button', { name: 'Bulk…' }).focus()
  await page.keyboard.press('Enter')
  const bulk = page.getByRole('dialog', { name: 'Change every document in this queue' })
  await bulk.getByLabel('Change').focus()
  await page.keyboard.press('ArrowDown') // "Remove them all"
  await expect(bulk.getByLabel('Change')).toHaveValue('remove')
  await expect(bulk.getByRole('status')).toContainText(/This changes \d+ of the \d+ documents/)
  const confirm = bulk.getByRole('button', { name: /^Change \d+ documents$/ })
  const changed = Number((await confirm.textContent())!.match(/\d+/)![0])
  expect(changed).toBeGreaterThan(0)
  await confirm.focus()
  await page.keyboard.press('Enter')
  await expect(bulk).toBeHidden()
  await expect(status(page)).toContainText(`Removed ${changed} documents`)

  // The bulk change is one action over every document it changed.
  const again = Store.open(db)
  const removedInBulk = sqlOf(again)
    .prepare(
      `SELECT COUNT(*) AS n FROM review_action_items i JOIN review_actions a ON a.id = i.action_id
              WHERE a.summary LIKE 'Removed % documents'`,
    )
    .get() as { n: number }
  expect(removedInBulk.n).toBe(changed)
  again.close()

  // And in the JSON Lines export.
  const out = join(dir, 'decisions.jsonl')
  await page.getByRole('button', { name: 'Export…' }).focus()
  await page.keyboard.press('Enter')
  await page.keyboard.type(out)
  await page.keyboard.press('Enter')
  await expect
    .poll(() => {
      try {
        return readFileSync(out, 'utf8').trim().split('\n').length
      } catch {
        return 0
      }
    })
    .toBeGreaterThanOrEqual(changed)
  const rows = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as { id: number; decision: string | null; labels: string[]; note: string },
    )
  expect(rows.find((r) => r.id === second)).toMatchObject({
    decision: 'remove',
    labels: ['boilerplate'],
    note: 'menu text left in',
  })
})

test('after the server is killed, no decision is lost and the queue resumes at the same document', async ({
  page,
}) => {
  test.setTimeout(120_000)
  serve = await startServe(dir, db)
  await page.goto(serve.url)
  await page.keyboard.press('Control+2')
  const first = await shownId(page)
  await page.keyboard.press('a')
  const second = await movedFrom(page, first)
  await page.keyboard.press('x')
  const third = await movedFrom(page, second)
  await expect(status(page)).toHaveText(`Removed #${second}.`)

  // A crash: no shutdown, no chance to flush anything.
  serve.process.kill('SIGKILL')
  await new Promise((resolve) => serve!.process.once('exit', resolve))
  serve = await startServe(dir, db)
  await page.goto(serve.url)
  await page.keyboard.press('Control+2')
  await expect(
    page.getByRole('region', { name: 'Document' }).getByRole('heading', { level: 3 }),
  ).toHaveText(`#${third}`)
  const list = page.getByRole('navigation', { name: /^Queue: / })
  await expect(list.getByRole('button', { name: new RegExp(`#${first}\\s*kept`) })).toBeVisible()
  await expect(
    list.getByRole('button', { name: new RegExp(`#${second}\\s*removed`) }),
  ).toBeVisible()
  // And the history survived too: undo reverts the removal made before the crash.
  await page.keyboard.press('u')
  await expect(status(page)).toHaveText(`Undone: Removed #${second}.`)
  await expect(
    page.getByRole('region', { name: 'Document' }).getByRole('heading', { level: 3 }),
  ).toHaveText(`#${second}`)
})
