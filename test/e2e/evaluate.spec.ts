import { expect, test, type Page } from '@playwright/test'
import Database from 'better-sqlite3'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { frugal, startServe, stopServe, type ServeHandle } from './fixtures'

let dir: string
let serve: ServeHandle | null = null
test.beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'frugal-eval-'))))
test.afterEach(async () => {
  if (serve) await stopServe(serve)
  serve = null
  rmSync(dir, { recursive: true, force: true })
})

/** A project in `at` with a dataset "verses" of 60 numbered copies of a verse, made from the CLI. */
function versesProject(at = dir): { db: string; home: string } {
  const home = join(at, 'home')
  const db = join(at, 'p.frugal')
  const text = join(at, 'verses.txt')
  const verse = 'Shall I compare thee to a summer day? Thou art more lovely and more temperate.'
  writeFileSync(text, Array.from({ length: 60 }, (_, i) => `${verse} (${i})`).join('\n\n'))
  frugal(['project', 'create', db], home)
  frugal(
    ['data', 'import', text, '--dataset', 'verses', '--format', 'txt-blocks', '--db', db],
    home,
  )
  return { db, home }
}

/** A project in `at` with two tiny runs trained from the CLI: "alpha" (MoE) and "beta" (dense). */
function twoRuns(at: string): { db: string; home: string } {
  const { db, home } = versesProject(at)
  const model = { contextLength: 32, layers: 2, heads: 2, width: 16 }
  const runs = {
    alpha: { ...model, moe: { routedExperts: 4, topK: 2, firstDenseLayers: 1 } },
    beta: model,
  }
  for (const [name, m] of Object.entries(runs)) {
    const config = join(at, `${name}.json`)
    writeFileSync(
      config,
      JSON.stringify({
        name,
        data: { dataset: 'verses', tokenizer: { kind: 'char' } },
        model: m,
        train: { steps: 8, batchSize: 4, warmupSteps: 2, evalEvery: 8, checkpointEvery: 8 },
      }),
    )
    frugal(['train', '--config', config, '--db', db, '--json'], home)
  }
  return { db, home }
}

/** twoRuns, trained once for this file's tests: each test works on its own copy. */
let trainedOnce: string | null = null
test.afterAll(() => {
  if (trainedOnce) rmSync(trainedOnce, { recursive: true, force: true })
  trainedOnce = null
})

/** A copy of the two-run project in this test's folder; `serve` started on it. */
async function serveTwoRuns(): Promise<{ db: string; url: string }> {
  if (!trainedOnce) {
    const at = mkdtempSync(join(tmpdir(), 'frugal-eval-runs-'))
    twoRuns(at)
    trainedOnce = at
  }
  const db = join(dir, 'p.frugal')
  // The CLI closed the project, so the file holds everything (no write-ahead log left).
  copyFileSync(join(trainedOnce, 'p.frugal'), db)
  serve = await startServe(dir, db)
  return { db, url: serve.url }
}

/** Evaluate opened in `page`; the page's errors are collected into the list returned. */
async function openEvaluate(page: Page, url: string): Promise<string[]> {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
  await page.goto(url)
  await page.keyboard.press('Control+5')
  return errors
}

test('the playground streams a greedy continuation, stops a long one, refuses a bad setting and saves a rating', async ({
  page,
}) => {
  test.setTimeout(180_000)
  const { url } = await serveTwoRuns()
  const errors = await openEvaluate(page, url)
  // Playground: greedy, 16 tokens, streamed into the output; then a rating.
  const playground = page.getByRole('region', { name: 'Playground' })
  await expect(playground.getByLabel('Run')).toHaveValue(/.+/)
  await playground.getByLabel('Prompt').fill('Shall I')
  await playground.getByLabel('Temperature').fill('0')
  await playground.getByLabel('Max tokens').fill('16')
  await playground.getByRole('button', { name: 'Generate' }).click()
  const output = playground.getByRole('log', { name: 'Generated text' })
  await expect(output).toHaveAttribute('data-state', 'done', { timeout: 60_000 })
  await expect(output).toContainText('Shall I')
  await expect(playground.getByText(/\d+ tokens at [\d.]+ tokens\/s/)).toBeVisible()
  await playground.getByRole('radio', { name: '4 of 5' }).check()
  await playground.getByRole('button', { name: 'Save rating' }).click()
  await expect(playground.getByText('Rating saved in the project.')).toBeVisible()

  // A long generation streams in while it runs, and Stop keeps what was written.
  // (Greedy: deterministic, and this barely trained model never picks end-of-text.)
  await playground.getByLabel('Max tokens').fill('4000')
  await playground.getByRole('button', { name: 'Generate' }).click()
  await expect(output).toHaveAttribute('data-state', 'running')
  await expect(output).toContainText(/Shall I[\s\S]{3,}/, { timeout: 30_000 })
  await expect(output).toHaveAttribute('data-state', 'running') // still going: it streamed
  // On a fast machine the 4000 tokens may all be out before the click lands (CI reached
  // 860 tokens/s): either way the streamed text stays and the reason is given.
  await playground.getByRole('button', { name: 'Stop' }).click({ trial: false, force: true })
  await expect(output).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
  await expect(playground.getByText(/ · (stopped|reached max tokens) · step 8/)).toBeVisible()

  // A bad setting is named, and nothing starts.
  await playground.getByLabel('Top-p').fill('3')
  await playground.getByRole('button', { name: 'Generate' }).click()
  await expect(playground.getByText(/^Top-p:/)).toBeVisible()

  // The ratings list shows the rating.
  await page.getByRole('tab', { name: 'Ratings' }).click()
  await expect(
    page
      .getByRole('table', { name: 'Ratings and preferences' })
      .getByRole('row', { name: /Shall I.*★★★★☆/ }),
  ).toBeVisible()
  expect(errors).toEqual([])
})

test('A/B compares two checkpoints on one prompt and records the preference', async ({ page }) => {
  test.setTimeout(180_000)
  const { db, url } = await serveTwoRuns()
  const errors = await openEvaluate(page, url)
  // A/B: alpha against beta, the same prompt and seed; B preferred.
  await page.getByRole('tab', { name: 'A/B comparison' }).click()
  const ab = page.getByRole('region', { name: 'A/B comparison' })
  await ab
    .getByRole('group', { name: 'Model A' })
    .getByLabel('Run')
    .selectOption({ label: 'alpha' })
  await ab.getByRole('group', { name: 'Model B' }).getByLabel('Run').selectOption({ label: 'beta' })
  await ab.getByLabel('Prompt').fill('Thou art')
  await ab.getByLabel('Max tokens').fill('12')
  await ab.getByRole('button', { name: 'Generate both' }).click()
  for (const side of ['A', 'B'])
    await expect(ab.getByRole('log', { name: `Output ${side}` })).toHaveAttribute(
      'data-state',
      'done',
      { timeout: 60_000 },
    )
  await expect(ab.getByRole('heading', { name: 'A · alpha @ step 8' })).toBeVisible()
  await expect(ab.getByRole('heading', { name: 'B · beta @ step 8' })).toBeVisible()
  await ab.getByRole('radio', { name: 'B is better' }).check()
  await ab
    .getByRole('radiogroup', { name: 'Rate output A' })
    .getByRole('radio', { name: '2 of 5' })
    .check()
  await ab.getByRole('button', { name: 'Save preference' }).click()
  await expect(ab.getByText('Preference saved in the project.')).toBeVisible()
  await expect(
    ab.getByText('alpha @ step 8 won 0 of 1 (0%), beta @ step 8 won 1, 0 ties.'),
  ).toBeVisible()

  // The ratings list shows it; the project file holds it.
  await page.getByRole('tab', { name: 'Ratings' }).click()
  const recorded = page.getByRole('table', { name: 'Ratings and preferences' })
  await expect(
    recorded.getByRole('row', { name: /Thou art.*beta @ step 8 preferred over alpha @ step 8/ }),
  ).toBeVisible()
  const store = new Database(db, { readonly: true })
  const prefs = store
    .prepare('SELECT choice, source_a AS a, source_b AS b FROM preferences')
    .all() as { choice: string; a: string; b: string }[]
  store.close()
  expect(prefs).toHaveLength(1)
  expect(prefs[0].choice).toBe('b')
  expect(JSON.parse(prefs[0].a)).toMatchObject({ label: 'alpha @ step 8', checkpointId: 1 })

  expect(errors).toEqual([])
})

test('inspects attention and expert routing over a prompt', async ({ page }) => {
  test.setTimeout(180_000)
  const { url } = await serveTwoRuns()
  const errors = await openEvaluate(page, url)
  // Attention and routing over a prompt.
  await page.getByRole('tab', { name: 'Attention & routing' }).click()
  const inspect = page.getByRole('region', { name: 'Attention and routing' })
  await inspect.getByLabel('Run').selectOption({ label: 'alpha' })
  await inspect.getByLabel('Prompt').fill('summer')
  await inspect.getByRole('button', { name: 'Inspect' }).click()
  const map = inspect.getByRole('table', { name: 'Attention, layer 1, head 1' })
  await expect(map).toBeVisible({ timeout: 60_000 })
  await expect(map.getByRole('row')).toHaveCount(7) // header + one row per character
  // alpha's second layer is MoE: each of the 6 tokens goes to 2 of 4 experts.
  const routing = inspect.getByRole('table', { name: 'Expert routing' })
  await expect(routing.getByRole('row')).toHaveCount(7)
  await expect(routing.getByText(/^E[1-4] [01]\.\d\d$/)).toHaveCount(12)
  await inspect.getByRole('combobox', { name: 'Layer' }).selectOption('2')
  await expect(inspect.getByRole('table', { name: 'Attention, layer 2, head 1' })).toBeVisible()

  expect(errors).toEqual([])
})

test('exports a checkpoint as a folder and as one GGUF file, refuses a used folder, and imports the folder back', async ({
  page,
}) => {
  test.setTimeout(180_000)
  const { url } = await serveTwoRuns()
  const errors = await openEvaluate(page, url)
  // Models: export beta in bf16, then a second export to the same folder is refused.
  await page.keyboard.press('Control+6')
  await page.getByRole('navigation', { name: 'Runs with checkpoints' }).getByText('beta').click()
  await page.getByRole('button', { name: 'Export…' }).click()
  const dialog = page.getByRole('dialog')
  const out = join(dir, 'beta-export')
  await dialog.getByLabel('Folder (new, or empty)').fill(out)
  await dialog.getByRole('radio', { name: 'bf16' }).check()
  await dialog.getByRole('button', { name: 'Export', exact: true }).click()
  await expect(page.getByText(/Exported .* \(bf16, .*\) to /)).toBeVisible({ timeout: 60_000 })
  expect(readdirSync(out)).toEqual(
    expect.arrayContaining(['model.safetensors', 'config.json', 'tokenizer.json', 'README.md']),
  )
  await page.getByRole('button', { name: 'Export…' }).click()
  await dialog.getByLabel('Folder (new, or empty)').fill(out)
  await dialog.getByRole('button', { name: 'Export', exact: true }).click()
  await expect(dialog.getByText(/is not empty: choose a new folder/)).toBeVisible()
  await dialog.getByRole('button', { name: 'Cancel' }).click()

  // beta is dense: it also goes out as one GGUF file for llama.cpp and Ollama.
  await page.getByRole('button', { name: 'Export…' }).click()
  await dialog.getByRole('radio', { name: 'GGUF file' }).check()
  await expect(dialog.getByRole('radio', { name: 'bf16' })).toHaveCount(0)
  await dialog.getByRole('radio', { name: 'q8_0' }).check()
  await dialog.getByLabel('File (new, .gguf)').fill(join(dir, 'beta.gguf'))
  await page.screenshot({ path: test.info().outputPath('export-gguf.png') })
  await dialog.getByRole('button', { name: 'Export', exact: true }).click()
  await expect(page.getByText(/Exported .* \(GGUF q8_0, .*\) to .*: beta\.gguf\./)).toBeVisible({
    timeout: 60_000,
  })
  expect(readFileSync(join(dir, 'beta.gguf')).subarray(0, 4).toString('latin1')).toBe('GGUF')

  // The exported folder comes back in as a model of its own.
  await page.getByRole('button', { name: 'Import model…' }).click()
  await dialog.getByLabel('Model folder').fill(out)
  await dialog.getByLabel('Name in this project').fill('beta-again')
  await dialog.getByRole('button', { name: 'Import', exact: true }).click()
  await expect(
    page.getByText(/Imported beta-again: .* \(BF16\), tokenizer “beta-again”/),
  ).toBeVisible({
    timeout: 60_000,
  })
  await expect(page.getByRole('heading', { name: 'beta-again', level: 2 })).toBeVisible()
  expect(errors).toEqual([])
})

test('measures perplexity and multiple-choice accuracy of a checkpoint', async ({ page }) => {
  test.setTimeout(180_000)
  const { url } = await serveTwoRuns()
  const errors = await openEvaluate(page, url)
  await page.keyboard.press('Control+6')
  await page.getByRole('navigation', { name: 'Runs with checkpoints' }).getByText('beta').click()
  const dialog = page.getByRole('dialog')
  // Perplexity on the validation split, listed with the checkpoint.
  await page.getByRole('button', { name: 'Perplexity…' }).click()
  await dialog.getByRole('button', { name: 'Measure' }).click()
  await expect(
    page.getByRole('table', { name: 'Evaluations' }).getByText(/perplexity [\d.]+ \(loss/),
  ).toBeVisible({ timeout: 60_000 })
  // A multiple-choice folder in MMLU's layout, scored 1-shot, listed next to chance.
  const mmlu = join(dir, 'mmlu')
  mkdirSync(join(mmlu, 'test'), { recursive: true })
  mkdirSync(join(mmlu, 'dev'), { recursive: true })
  writeFileSync(
    join(mmlu, 'test', 'verse_test.csv'),
    'Shall I compare thee to a,summer day,winter night,cold stone,dry bone,A\n' +
      'Thou art more lovely and more,temperate,violent,hungry,bitter,A\n',
  )
  writeFileSync(
    join(mmlu, 'dev', 'verse_dev.csv'),
    'Rough winds do shake,the darling buds,a tin can,the sea,nothing,A\n',
  )
  await page.getByRole('button', { name: 'Multiple choice…' }).click()
  await dialog.getByLabel('Benchmark folder').fill(mmlu)
  await dialog.getByLabel('Examples before each question').fill('1')
  await dialog.getByRole('button', { name: 'Score' }).click()
  await expect(
    page
      .getByRole('table', { name: 'Evaluations' })
      .getByText(/accuracy [\d.]+% \(chance 25\.0%\) over 2 questions, 1-shot, 1 subject/),
  ).toBeVisible({ timeout: 60_000 })
  expect(errors).toEqual([])
})

test('best of n: samples ranked by a reward model, and the best one rated', async ({ page }) => {
  test.setTimeout(240_000)
  // A base run, and a reward model trained from it on pairs that prefer its verse to noise.
  const { db, home } = versesProject()
  const pairs = join(dir, 'prefs.jsonl')
  writeFileSync(
    pairs,
    Array.from({ length: 24 }, (_, i) =>
      JSON.stringify({
        prompt: `Shall I (${i})`,
        chosen: ' compare thee to a summer day?',
        rejected: ' ttt aaa ttt',
      }),
    ).join('\n'),
  )
  frugal(['data', 'import', pairs, '--dataset', 'prefs', '--db', db], home)
  const runs = {
    base: {
      data: { dataset: 'verses', tokenizer: { kind: 'char' } },
      model: { contextLength: 48, layers: 2, heads: 2, width: 16 },
      train: { steps: 8, batchSize: 4, warmupSteps: 2, evalEvery: 8, checkpointEvery: 8 },
    },
    judge: {
      data: { dataset: 'prefs', tokenizer: 'verses-char' },
      init: { run: 'base' },
      train: { kind: 'reward', steps: 6, batchSize: 4, warmupSteps: 1, checkpointEvery: 6 },
    },
  }
  for (const [name, run] of Object.entries(runs)) {
    const config = join(dir, `${name}.json`)
    writeFileSync(config, JSON.stringify({ name, ...run }))
    frugal(['train', '--config', config, '--db', db, '--json'], home)
  }
  serve = await startServe(dir, db)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
  await page.goto(serve.url)
  await page.keyboard.press('Control+5')

  const playground = page.getByRole('region', { name: 'Playground' })
  await playground.getByLabel('Run').selectOption({ label: 'base' })
  await playground.getByLabel('Prompt').fill('Shall I')
  await playground.getByLabel('Max tokens').fill('10')
  await playground.getByLabel('Samples').fill('3')
  // Several samples need a reward model to rank them: said, and nothing starts.
  await playground.getByRole('button', { name: 'Generate' }).click()
  await expect(playground.getByText(/Choose a reward model to rank the samples/)).toBeVisible()

  await playground.getByLabel('Rank with').selectOption({ label: 'judge' })
  await playground.getByRole('button', { name: 'Generate' }).click()
  const ranked = playground.getByRole('list', { name: 'Samples, best first' })
  await expect(ranked.getByRole('listitem')).toHaveCount(3, { timeout: 90_000 })
  await expect(playground.getByText(/Ranked by judge \(step 6\)/)).toBeVisible()
  const scores = await ranked
    .getByRole('listitem')
    .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-score'))))
  expect(scores).toEqual([...scores].sort((a, b) => b - a))
  // Three seeds, three samples, each listed once.
  const seeds = await ranked.getByText(/^seed \d+/).allTextContents()
  expect(new Set(seeds.map((s) => s.match(/seed (\d+)/)![1]))).toEqual(new Set(['0', '1', '2']))
  await expect(ranked.getByRole('listitem').first()).toContainText('Best')
  const best = await ranked
    .getByRole('listitem')
    .first()
    .locator('.ranked-sample-text')
    .textContent()

  // The rating is the best sample's.
  await playground
    .getByRole('radiogroup', { name: 'Rate the best sample' })
    .getByRole('radio', { name: '5 of 5' })
    .check()
  await playground.getByRole('button', { name: 'Save rating' }).click()
  await expect(playground.getByText('Rating saved in the project.')).toBeVisible()
  const store = new Database(db, { readonly: true })
  const rows = store.prepare('SELECT output, score, source FROM ratings').all() as {
    output: string
    score: number
    source: string
  }[]
  store.close()
  expect(rows).toHaveLength(1)
  expect(rows[0]).toMatchObject({ output: best, score: 5 })
  expect(JSON.parse(rows[0].source)).toMatchObject({ label: 'base @ step 8' })
  expect(errors).toEqual([])
})

test('the cost report sets each run against a baseline on the same data', async ({ page }) => {
  test.setTimeout(180_000)
  const { url } = await serveTwoRuns()
  await page.goto(url)
  await page.keyboard.press('Control+4')
  await page.getByRole('link', { name: 'Cost report' }).click()
  await expect(page.getByRole('heading', { name: 'Cost report' })).toBeVisible()
  const table = page.getByRole('table', { name: /^Cost report: verses/ })
  const row = (name: string) => table.getByRole('row').filter({ hasText: name })
  // The plain run is the default baseline; the MoE run is judged against it.
  await expect(row('beta')).toContainText('baseline')
  await expect(row('beta')).toContainText('plain')
  await expect(row('alpha')).toContainText('MoE 4×top-2, aux')
  await expect(row('alpha')).toContainText(/(better|worse|tie) \([+-]?\d+\.\d\d% loss\)/)
  await page.getByLabel('Baseline').selectOption({ label: 'alpha' })
  await expect(row('alpha')).toContainText('baseline')
  await expect(row('beta')).toContainText(/(better|worse|tie) \([+-]?\d+\.\d\d% loss\)/)
})
