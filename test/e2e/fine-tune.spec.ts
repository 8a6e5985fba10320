import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store'
import { trainChar } from '../../src/worker/tokenizer'
import type { Page } from '@playwright/test'
import { expect, frugal, startServe, stopServe, test, type ServeHandle } from './fixtures'

let serve: ServeHandle | null = null
let dir: string

test.beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'frugal-e2e-sft-'))))
test.afterEach(async () => {
  if (serve) await stopServe(serve)
  serve = null
  rmSync(dir, { recursive: true, force: true })
})

/** A project with a dataset of small sums as conversations (imported as JSONL) and a character tokenizer. */
async function sumsProject(): Promise<string> {
  const home = join(dir, 'home')
  const db = join(dir, 'sft.frugal')
  const lines: string[] = []
  for (let a = 1; a <= 9; a++)
    for (let b = 1; b <= 7; b++)
      lines.push(JSON.stringify({ prompt: `What is ${a}+${b}?`, response: String(a + b) }))
  writeFileSync(join(dir, 'sums.jsonl'), lines.join('\n'))
  // Preferences: a sentence over the bare number the fine-tuned model gives.
  const pairs = Array.from({ length: 40 }, (_, i) => {
    const [a, b] = [1 + (i % 9), 1 + Math.floor(i / 9)]
    return JSON.stringify({
      prompt: [{ role: 'user', content: `What is ${a}+${b}?` }],
      chosen: [{ role: 'assistant', content: `It is ${a + b}.` }],
      rejected: [{ role: 'assistant', content: String(a + b) }],
    })
  })
  writeFileSync(join(dir, 'prefs.jsonl'), pairs.join('\n'))
  frugal(['project', 'create', db], home)
  frugal(['data', 'import', join(dir, 'sums.jsonl'), '--dataset', 'sums', '--db', db], home)
  frugal(['data', 'import', join(dir, 'prefs.jsonl'), '--dataset', 'prefs', '--db', db], home)
  // Every character the chat template writes around the sums.
  const { tokenizer } = await trainChar(['User: What is 0123456789+?\n\nAssistant: It.'])
  const store = Store.open(db)
  store.tokenizers.insert({
    name: 'sums-char',
    kind: 'char',
    vocabSize: tokenizer.vocabSize,
    datasetId: store.datasets.list()[0].id,
    options: { kind: 'char' },
    stats: null,
    json: tokenizer.serialize(),
    createdAt: new Date().toISOString(),
  })
  store.close()
  return db
}

/** Choose the run the new run starts from (its newest checkpoint), by the option's name. */
async function startFrom(page: Page, run: RegExp) {
  const source = page.getByLabel('Start from').getByRole('option', { name: run })
  await page
    .getByLabel('Start from')
    .selectOption({ value: (await source.getAttribute('value')) ?? '' })
}

/** Fill the run form's settings, found by their paths. */
async function fill(page: Page, fields: [string, string][]) {
  for (const [field, value] of fields) await page.locator(`[data-field="${field}"]`).fill(value)
}

test('fine-tunes on conversations, then on preferences, from the run form to the A/B view', async ({
  page,
}) => {
  test.setTimeout(240_000)
  serve = await startServe(dir, await sumsProject())
  await page.goto(serve.url)

  // The Data screen shows an imported preference pair turn by turn, not as its JSON.
  await page.keyboard.press('Control+1')
  await page.getByRole('navigation', { name: 'Datasets' }).getByText('prefs').click()
  await page.getByRole('tab', { name: 'Documents' }).click()
  const first = page.getByRole('listbox', { name: 'Documents' }).getByRole('option').first()
  await expect(first).toContainText('Preference pair: What is 1+1?')
  await first.click()
  const original = page.getByRole('region', { name: 'Why' }).getByLabel('Original text')
  await expect(original.locator('.chat-turn')).toHaveText([
    /^user\s*What is \d\+\d\?$/,
    /^chosen\s*It is \d+\.$/,
    /^rejected\s*\d+$/,
  ])
  await page.goto(`${serve.url.split('?')[0]}#/train`)
  await page.getByRole('link', { name: 'New run' }).first().click()
  await page.getByRole('radio', { name: /Tiny dense/ }).click()
  await page.getByLabel('Run name').fill('sums-sft')

  // Fine-tuning: the distillation teacher and the pretraining-only settings go away.
  await expect(page.getByLabel('Teacher (distillation)')).toBeVisible()
  await page.getByLabel('What it learns').selectOption('sft')
  await expect(page.getByText(/Only the assistant's replies are learned/)).toBeVisible()
  await page.getByLabel('Dataset').selectOption({ label: 'sums (63 documents)' })
  await expect(page.getByLabel('Teacher (distillation)')).toHaveCount(0)
  await expect(page.locator('[data-field="contextWarmupSteps"]')).toHaveCount(0)
  await fill(page, [
    ['contextLength', '48'],
    ['width', '48'],
    ['layers', '2'],
    ['heads', '2'],
    ['steps', '240'],
    ['batchSize', '8'],
    ['learningRate', '0.003'],
    ['warmupSteps', '10'],
    ['evalEvery', '120'],
    ['checkpointEvery', '240'],
  ])
  await page.getByRole('button', { name: 'Create and start' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'sums-sft' })).toBeVisible()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('completed'),
  ).toBeVisible({ timeout: 120_000 })
  await expect(page.getByLabel('Run settings')).toContainText('"kind": "sft"')

  // The playground's chat: the question goes through the chat template and the reply ends
  // by itself at the end-of-turn token.
  await page.keyboard.press('Control+5')
  const playground = page.getByRole('region', { name: 'Playground' })
  await playground.getByLabel('Prompt').fill('What is 4+3?')
  await playground.getByLabel('Chat').check()
  await playground.getByLabel('Temperature').fill('0')
  await playground.getByLabel('Max tokens').fill('12')
  await playground.getByRole('button', { name: 'Generate' }).click()
  const output = playground.getByRole('log', { name: 'Generated text' })
  await expect(output).toHaveAttribute('data-state', 'done', { timeout: 60_000 })
  await expect(output).toContainText(/What is 4\+3\?\s*\d+$/)
  await expect(playground.getByText(/\d+ tokens? at [\d.]+ tokens\/s/)).toBeVisible()

  // DPO from the fine-tuned model on the imported pairs.
  await page.goto(`${serve.url.split('?')[0]}#/train`)
  await page.getByRole('link', { name: 'New run' }).first().click()
  await page.getByLabel('Run name').fill('sums-dpo')
  await page.getByLabel('What it learns').selectOption('dpo')
  await expect(page.getByText(/staying close to the model it starts from/)).toBeVisible()
  await page.getByLabel('Dataset').selectOption({ label: 'prefs (40 documents)' })
  await startFrom(page, /^sums-sft/)
  await expect(page.locator('[data-field="simpoMargin"]')).toHaveCount(0)
  await fill(page, [
    ['steps', '120'],
    ['batchSize', '8'],
    ['learningRate', '0.001'],
    ['warmupSteps', '5'],
    ['preferenceBeta', '0.01'],
    ['evalEvery', '60'],
    ['checkpointEvery', '120'],
  ])
  await page.getByRole('button', { name: 'Create and start' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'sums-dpo' })).toBeVisible()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('completed'),
  ).toBeVisible({ timeout: 120_000 })
  await expect(page.getByRole('figure', { name: /^Preference accuracy/ })).toBeVisible()
  await expect(page.getByRole('figure', { name: /^Preference rewards/ })).toBeVisible()

  // The A/B view: the fine-tuned model against its preference-trained successor.
  await page.keyboard.press('Control+5')
  await page.getByRole('tab', { name: 'A/B comparison' }).click()
  const ab = page.getByRole('region', { name: 'A/B comparison' })
  await ab
    .getByRole('group', { name: 'Model A' })
    .getByLabel('Run')
    .selectOption({ label: 'sums-sft' })
  await ab
    .getByRole('group', { name: 'Model B' })
    .getByLabel('Run')
    .selectOption({ label: 'sums-dpo' })
  await ab.getByLabel('Prompt').fill('What is 2+5?')
  await ab.getByLabel('Chat').check()
  await ab.getByLabel('Temperature').fill('0')
  await ab.getByLabel('Max tokens').fill('12')
  await ab.getByRole('button', { name: 'Generate both' }).click()
  for (const side of ['A', 'B'])
    await expect(ab.getByRole('log', { name: `Output ${side}` })).toHaveAttribute(
      'data-state',
      'done',
      { timeout: 60_000 },
    )
  await ab.getByRole('radio', { name: 'B is better' }).check()
  await ab.getByRole('button', { name: 'Save preference' }).click()
  await expect(ab.getByText('Preference saved in the project.')).toBeVisible()
  await expect(ab.getByText(/sums-dpo @ step 120 won 1, 0 ties\./)).toBeVisible()
})

test('reinforces a fine-tuned model with GRPO and LoRA from the run form, its rewards charted', async ({
  page,
}) => {
  test.setTimeout(240_000)
  const db = await sumsProject()
  const home = join(dir, 'home')
  writeFileSync(
    join(dir, 'sft.json'),
    JSON.stringify({
      name: 'sums-sft',
      data: { dataset: 'sums', tokenizer: 'sums-char' },
      model: { contextLength: 48, layers: 2, heads: 2, width: 48 },
      train: { kind: 'sft', steps: 120, batchSize: 8, learningRate: 3e-3, warmupSteps: 10 },
    }),
  )
  frugal(['train', '--config', join(dir, 'sft.json'), '--db', db], home)
  serve = await startServe(dir, db)
  await page.goto(serve.url)
  await page.goto(`${serve.url.split('?')[0]}#/train`)
  await page.getByRole('link', { name: 'New run' }).first().click()
  await page.getByLabel('Run name').fill('sums-grpo')
  await page.getByLabel('What it learns').selectOption('grpo')
  await expect(page.getByText(/Samples a group of replies to each prompt/)).toBeVisible()
  await page.getByLabel('Dataset').selectOption({ label: 'sums (63 documents)' })
  await startFrom(page, /^sums-sft/)
  // The rules: the exact answer (the default) and a format rule, a bare number.
  const rules = page.getByRole('group', { name: 'Reward rules' })
  await expect(rules.getByLabel('Rule 1 kind')).toHaveValue('exact')
  await rules.getByRole('button', { name: 'Add a rule' }).click()
  await rules.getByLabel('Rule 2 pattern').fill('([0-9]')
  await rules.getByLabel('Rule 2 weight').fill('0.5')
  await page.locator('[data-field="grpo"]').check()
  // LoRA on attention only: the targets are named choices, the defaults checked.
  await page.locator('[data-field="lora"]').check()
  const targets = page.getByRole('group', { name: 'Targets' })
  await expect(targets.getByLabel('attention')).toBeChecked()
  await expect(targets.getByLabel('experts')).not.toBeChecked()
  await targets.getByLabel('mlp').uncheck()
  // The frozen weights in int8: the estimate moves them out of the backend's memory.
  await page.getByLabel('Int8 base').check()
  await expect(page.getByText(/in int8 on the host/)).toBeVisible()
  await fill(page, [
    ['grpo.group', '4'],
    ['grpo.maxNewTokens', '4'],
    ['steps', '8'],
    ['batchSize', '4'],
    ['learningRate', '0.0005'],
    ['warmupSteps', '2'],
    ['evalEvery', '4'],
    ['evalBatches', '2'],
    ['checkpointEvery', '8'],
  ])
  // A pattern that does not compile is refused with its reason, and nothing is lost.
  await page.getByRole('button', { name: 'Create and start' }).click()
  await expect(
    page.getByText(/^train\.grpo\.rewards\.1\.pattern: Invalid regular expression/),
  ).toBeVisible()
  await rules.getByLabel('Rule 2 pattern').fill('^\\s*\\d+$')
  await page.getByRole('button', { name: 'Create and start' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'sums-grpo' })).toBeVisible()
  await expect(
    page.getByRole('region', { name: 'Progress', exact: true }).getByText('completed'),
  ).toBeVisible({ timeout: 120_000 })
  await expect(page.getByLabel('Run settings')).toContainText('"kind": "grpo"')
  await expect(page.getByLabel('Run settings')).toContainText('"pattern": "^\\\\s*\\\\d+$"')
  await expect(page.getByLabel('Run settings')).toContainText(/"targets": \[\s*"attention"\s*\]/)
  await expect(page.getByLabel('Run settings')).toContainText('"int8Base": true')
  await expect(page.getByLabel('Run log')).toContainText(/frozen values held in int8/)
  for (const chart of [/^GRPO rewards/, /^GRPO accuracy/, /^GRPO KL/, /^Reply length/])
    await expect(page.getByRole('figure', { name: chart })).toBeVisible()
  // Its adapters alone, for PEFT: the dialog and the folder's README say they were trained
  // over the rounded base.
  await page.keyboard.press('Control+6')
  await page
    .getByRole('navigation', { name: 'Runs with checkpoints' })
    .getByText('sums-grpo')
    .click()
  await page.getByRole('button', { name: 'Export…' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByRole('radio', { name: 'LoRA adapters' }).check()
  await expect(dialog.getByText(/over its base rounded to int8/)).toBeVisible()
  const adapters = join(dir, 'grpo-adapters')
  await dialog.getByLabel('Folder (new, or empty)').fill(adapters)
  await dialog.getByRole('button', { name: 'Export', exact: true }).click()
  await expect(page.getByText(/Exported .* to /)).toBeVisible({ timeout: 60_000 })
  expect(readFileSync(join(adapters, 'README.md'), 'utf8')).toMatch(
    /trained over the base held in int8/,
  )
})
