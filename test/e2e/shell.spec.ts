import { E2E_BACKEND, expect, test } from './fixtures'

const screens = ['Data', 'Review', 'Tokenizer', 'Train', 'Evaluate', 'Models', 'Settings']

test('opens with the navigation, the project and the compute backend', async ({ app, serve }) => {
  const nav = app.getByRole('navigation', { name: 'Main' })
  for (const name of screens) await expect(nav.getByRole('link', { name })).toBeVisible()
  // The token left the address bar; it lives in this tab's sessionStorage, never in a
  // cookie (a browser would send that to every other service on 127.0.0.1).
  expect(app.url()).not.toContain('token=')
  expect(await app.context().cookies()).toEqual([])
  expect(await app.evaluate(() => sessionStorage.getItem('frugal-token'))).toBe(serve.token)
  expect(app.url()).toContain('#/data')
  await expect(app.getByTestId('status-project')).toHaveText('e2e')
  // The start-up probe loads tfjs in a worker: seconds on a loaded machine.
  await expect(app.getByTestId('status-backend')).toContainText(E2E_BACKEND, { timeout: 30_000 })
  await expect(app.getByTestId('status-jobs')).toHaveText('No jobs running')
  expect(serve.token).toMatch(/^[0-9a-f]{64}$/)
})

test('every screen says what it is for and what to do next', async ({ app }) => {
  const nav = app.getByRole('navigation', { name: 'Main' })
  for (const name of screens.slice(0, 6)) {
    await nav.getByRole('link', { name }).click()
    await expect(app.getByRole('heading', { level: 1, name })).toBeVisible()
    await expect(app.locator('.empty')).toBeVisible()
  }
  await nav.getByRole('link', { name: 'Train' }).click()
  await expect(app.getByText('Import a dataset (Data)')).toBeVisible()
  await app.getByRole('main').getByRole('link', { name: 'Go to Data' }).click()
  await expect(app.getByRole('heading', { level: 1, name: 'Data' })).toBeVisible()
})

test('works from the keyboard alone', async ({ app }) => {
  await app.keyboard.press('Control+7')
  await expect(app.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible()
  await app.keyboard.press('Control+4')
  await expect(app.getByRole('heading', { level: 1, name: 'Train' })).toBeVisible()

  const nav = app.getByRole('navigation', { name: 'Main' })
  await nav.getByRole('link', { name: 'Data' }).focus()
  await app.keyboard.press('ArrowDown')
  await expect(nav.getByRole('link', { name: 'Review' })).toBeFocused()
  await app.keyboard.press('ArrowUp')
  await app.keyboard.press('ArrowUp')
  await expect(nav.getByRole('link', { name: 'Settings' })).toBeFocused()
  await app.keyboard.press('Enter')
  await expect(app.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible()

  await app.locator('body').press('?')
  const help = app.getByRole('dialog', { name: 'Keyboard shortcuts' })
  await expect(help).toBeVisible()
  await expect(help.getByText('Go to Evaluate')).toBeVisible()
  await app.keyboard.press('Escape')
  await expect(help).toBeHidden()
})

test('switches between light and dark, and remembers the choice', async ({ app }) => {
  await app.keyboard.press('Control+7')
  await app.getByLabel('Dark').check()
  await expect(app.locator('html')).toHaveAttribute('data-theme', 'dark')
  await app.reload()
  await expect(app.locator('html')).toHaveAttribute('data-theme', 'dark')
  await app.keyboard.press('Control+7')
  await app.getByLabel('Light').check()
  await expect(app.locator('html')).toHaveAttribute('data-theme', 'light')
})

test('refuses every request that lacks the access token', async ({
  serve,
  playwright,
  browser,
}) => {
  // A tab opened without it: the app says where to find the address that carries it.
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${serve.port}/`)
  await expect(page.getByRole('heading', { name: 'Access token needed' })).toBeVisible()
  // A tab whose token the server no longer takes (it restarted with a new one) says the
  // same, rather than failing every call.
  await page.goto(serve.url)
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible()
  await page.evaluate(() => sessionStorage.setItem('frugal-token', 'f'.repeat(64)))
  await page.reload()
  await expect(page.getByRole('heading', { name: 'Access token needed' })).toBeVisible()
  await page.close()
  const anonymous = await playwright.request.newContext()
  const api = await anonymous.post(`http://127.0.0.1:${serve.port}/api/invoke`, {
    data: { method: 'project.current' },
  })
  expect(api.status()).toBe(401)
  expect(await api.json()).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
  await anonymous.dispose()
})
