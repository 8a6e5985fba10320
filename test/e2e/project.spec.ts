import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Store } from '../../src/store'
import { expect, test } from './fixtures'

test('backs up the open project to a file that opens as a project', async ({ app, serve }) => {
  await app.keyboard.press('Control+7')
  await app.getByRole('button', { name: 'Back up…' }).click()
  const dialog = app.getByRole('dialog', { name: 'Back up project' })
  const target = join(serve.dir, 'copy.frugal')
  await dialog.getByLabel('Backup file').fill(target)
  await dialog.getByRole('button', { name: 'Back up' }).click()
  await expect(app.getByText(`Backed up to ${target}`)).toBeVisible()
  expect(existsSync(target)).toBe(true)
  const copy = Store.open(target)
  expect(copy.schemaVersion).toBeGreaterThan(0)
  copy.close()
})

test('explains a bad path and keeps the dialog open', async ({ app, serve }) => {
  await app.keyboard.press('Control+7')
  await app.getByRole('button', { name: 'New…' }).click()
  const dialog = app.getByRole('dialog', { name: 'New project' })
  await dialog.getByLabel('New project file').fill('relative/name.frugal')
  await dialog.getByRole('button', { name: 'Create' }).click()
  await expect(dialog.getByRole('alert')).toContainText('Use a full path')
  await dialog.getByLabel('New project file').fill(join(serve.dir, 'missing-folder', 'x.frugal'))
  await dialog.getByRole('button', { name: 'Create' }).click()
  await expect(dialog.getByRole('alert')).toContainText('does not exist')
  await expect(dialog).toBeVisible()
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await expect(dialog).toBeHidden()
  await expect(app.getByTestId('status-project')).toHaveText('e2e')
})

test('creates a second project, then reopens the first from the recent list', async ({
  app,
  serve,
}) => {
  await app.keyboard.press('Control+7')
  await app.getByRole('button', { name: 'New…' }).click()
  const dialog = app.getByRole('dialog', { name: 'New project' })
  await dialog.getByLabel('New project file').fill(join(serve.dir, 'second'))
  await dialog.getByRole('button', { name: 'Create' }).click()
  await expect(dialog).toBeHidden()
  await expect(app.getByTestId('status-project')).toHaveText('second')
  expect(existsSync(join(serve.dir, 'second.frugal'))).toBe(true)

  const recent = app.getByRole('list', { name: 'Recent projects' })
  await recent.getByRole('button', { name: 'Open e2e' }).click()
  await expect(app.getByTestId('status-project')).toHaveText('e2e')
  await expect(
    app.getByRole('list', { name: 'Recent projects' }).getByText('second', { exact: true }),
  ).toBeVisible()
})

test('checks the project file’s integrity in a worker', async ({ app }) => {
  await app.keyboard.press('Control+7')
  await app.getByRole('button', { name: 'Check integrity' }).click()
  // The check waits for a worker process to start and load its backend: seconds here.
  await expect(app.getByText('Integrity check passed: the file is sound.')).toBeVisible({
    timeout: 30_000,
  })
})
