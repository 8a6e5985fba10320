import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { Store } from '../../src/store'
import { trainChar } from '../../src/worker/tokenizer'
import { expect, startServe, stopServe, test, type ServeHandle } from './fixtures'
import { addDocuments } from '../helpers/documents'

let serve: ServeHandle
let dir: string

test.beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'frugal-e2e-train-'))
  const db = join(dir, 'train.frugal')
  const store = Store.create(db)
  const text = readFileSync(
    join(import.meta.dirname, '..', 'fixtures', 'text', 'tinyshakespeare-excerpt.txt'),
    'utf8',
  )
  const id = store.datasets.create('sonnets', new Date().toISOString())
  addDocuments(store, id, [{ source: 'sonnets.txt', text }])
  const { tokenizer } = await trainChar([text])
  store.tokenizers.insert({
    name: 'sonnets-char',
    kind: 'char',
    vocabSize: tokenizer.vocabSize,
    datasetId: id,
    options: { kind: 'char' },
    stats: null,
    json: tokenizer.serialize(),
    createdAt: new Date().toISOString(),
  })
  store.close()
  serve = await startServe(dir, db)
})

test.afterEach(async () => {
  await stopServe(serve)
  rmSync(dir, { recursive: true, force: true })
})

/** Fill a field of the generated run form, found by its settings path. */
async function setField(page: Page, path: string, value: string) {
  const field = page.locator(`[data-field="${path}"]`)
  await field.fill(value)
}

async function newRun(page: Page, name: string, steps: string, learningRate: string) {
  await page.goto(`${serve.url.split('?')[0]}#/train`)
  await page.getByRole('link', { name: 'New run' }).first().click()
  await expect(page.getByRole('heading', { level: 1, name: 'New run' })).toBeVisible()
  await page.getByRole('radio', { name: /Tiny dense/ }).click()
  await page.getByLabel('Run name').fill(name)
  await setField(page, 'contextLength', '32')
  await setField(page, 'width', '32')
  await setField(page, 'layers', '2')
  await setField(page, 'heads', '2')
  await setField(page, 'steps', steps)
  await setField(page, 'batchSize', '4')
  await setField(page, 'learningRate', learningRate)
  await setField(page, 'evalEvery', '50')
  await setField(page, 'checkpointEvery', '100')
}

test('sets up a run from a preset, watches it train, pauses, resumes, stops and compares it', async ({
  page,
}) => {
  test.setTimeout(180_000)
  await page.goto(serve.url)
  await newRun(page, 'first', '3000', '0.003')

  // Estimates follow the form.
  const estimates = page.getByLabel('Estimates')
  await expect(estimates).toContainText('Parameters')
  await expect(estimates).toContainText('MFLOP per token')
  await expect(estimates).toContainText('Memory')
  // An invalid field is explained inline and blocks creation.
  await setField(page, 'heads', '3')
  await expect(page.getByText('width 32 is not divisible by 3 heads')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Create and start' })).toBeDisabled()
  await setField(page, 'heads', '2')

  await page.getByRole('button', { name: 'Create and start' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'first' })).toBeVisible()
  // The loss chart receives points.
  const loss = page.getByRole('figure', { name: /^Loss: latest \d/ })
  await expect(loss).toBeVisible({ timeout: 30_000 })
  await expect(page.getByRole('region', { name: 'Progress', exact: true })).toContainText(
    /step [1-9]/,
  )

  await page.getByRole('button', { name: 'Pause first' }).click()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('paused'),
  ).toBeVisible({ timeout: 30_000 })
  await expect(page.getByRole('cell', { name: 'pause' })).toBeVisible() // the checkpoint written on pause

  await page.getByRole('button', { name: 'Resume first' }).click()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('running'),
  ).toBeVisible({ timeout: 30_000 })
  await page.getByRole('button', { name: 'Stop first' }).click()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('stopped'),
  ).toBeVisible({ timeout: 30_000 })
  await expect(page.getByRole('status').filter({ hasText: 'Run stopped' })).toBeVisible()

  // A second run, different learning rate, then the comparison.
  await newRun(page, 'second', '60', '0.001')
  await page.getByRole('button', { name: 'Create and start' }).click()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('completed'),
  ).toBeVisible({ timeout: 60_000 })
  await page.getByRole('link', { name: 'All runs' }).click()
  await page.getByLabel('Select first for comparison').check()
  await page.getByLabel('Select second for comparison').check()
  await page.getByRole('button', { name: 'Compare (2)' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Compare runs' })).toBeVisible()
  const diff = page.getByRole('table', { name: 'Settings that differ' })
  await expect(diff).toContainText('train.learningRate')
  await expect(diff).toContainText('0.003')
  await expect(diff).toContainText('train.steps')
})

test('a distillation run learns from a teacher chosen in the form and charts its loss parts', async ({
  page,
}) => {
  test.setTimeout(180_000)
  await page.goto(serve.url)
  await newRun(page, 'teacher', '60', '0.003')
  await page.getByRole('button', { name: 'Create and start' }).click()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('completed'),
  ).toBeVisible({ timeout: 60_000 })

  // A smaller student, taught by it: soft targets at T = 2, α = 0.3 on the labels, and its
  // last layer's output aligned with the teacher's through a learned 16×(teacher) projection.
  await newRun(page, 'pupil', '40', '0.003')
  await setField(page, 'width', '16')
  await page
    .getByLabel('Teacher (distillation)')
    .selectOption({ label: 'teacher (newest checkpoint, sonnets-char)' })
  await expect(page.getByText(/Loss = α·CE \+ \(1−α\)·T²·KL/)).toBeVisible()
  await setField(page, 'distillAlpha', '0.3')
  await setField(page, 'distillHiddenWeight', '1')
  await page.getByRole('button', { name: 'Create and start' }).click()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('completed'),
  ).toBeVisible({ timeout: 60_000 })
  const parts = page.getByRole('figure', {
    name: /^Distillation loss parts: latest \d[\d.]*, T²·KL \(teacher\) \d[\d.]*, hidden MSE \d/,
  })
  await expect(parts).toBeVisible()
  await expect(page.getByLabel('Run settings')).toContainText('"teacher"')
  await expect(page.getByLabel('Run settings')).toContainText('"distillAlpha": 0.3')
  await expect(page.getByLabel('Run settings')).toContainText('"distillHiddenWeight": 1')
})
