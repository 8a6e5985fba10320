import { defineConfig } from '@playwright/test'

/**
 * End-to-end tests drive the built app through `frugal serve` in Chromium. Playwright
 * cannot download its own browser here, so it uses the system one (Debian's
 * /usr/bin/chromium; CHROMIUM_PATH overrides).
 */
export default defineConfig({
  // `e2e` is the test suite; `screenshots` regenerates the images in docs/screenshots.
  projects: [
    { name: 'e2e', testDir: 'test/e2e' },
    { name: 'screenshots', testDir: 'scripts', testMatch: 'screenshots.spec.ts' },
  ],
  outputDir: 'test-results',
  // One worker: each test starts a server, and this machine has two cores.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
})
