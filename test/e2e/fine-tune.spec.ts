import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store'
import { trainChar } from '../../src/worker/tokenizer'
import { expect, startServe, stopServe, test, type ServeHandle } from './fixtures'

let serve: ServeHandle | null = null
let dir: string

/** The built `frugal` command; throws with its stderr when it fails. */
function frugal(args: string[], home: string): string {
  const r = spawnSync(process.execPath, ['bin/frugal.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, FRUGAL_HOME: home },
  })
  if (r.status !== 0) throw new Error(`frugal ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

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
  frugal(['project', 'create', db], home)
  frugal(['data', 'import', join(dir, 'sums.jsonl'), '--dataset', 'sums', '--db', db], home)
  // Every character the chat template writes around the sums.
  const { tokenizer } = await trainChar(['User: What is 0123456789+?\n\nAssistant: '])
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

test('fine-tunes on conversations from the run form and chats with the result', async ({
  page,
}) => {
  test.setTimeout(180_000)
  serve = await startServe(dir, await sumsProject())
  await page.goto(serve.url)
  await page.goto(`${serve.url.split('?')[0]}#/train`)
  await page.getByRole('link', { name: 'New run' }).first().click()
  await page.getByRole('radio', { name: /Tiny dense/ }).click()
  await page.getByLabel('Run name').fill('sums-sft')

  // Fine-tuning: the distillation teacher and the pretraining-only settings go away.
  await expect(page.getByLabel('Teacher (distillation)')).toBeVisible()
  await page.getByLabel('What it learns').selectOption('sft')
  await expect(page.getByText(/Only the assistant's replies are learned/)).toBeVisible()
  await expect(page.getByLabel('Teacher (distillation)')).toHaveCount(0)
  await expect(page.locator('[data-field="contextWarmupSteps"]')).toHaveCount(0)
  for (const [field, value] of [
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
    await page.locator(`[data-field="${field}"]`).fill(value)
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
})
