import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

let builtEntry: string | null = null

/**
 * The built app bundles the thread as its own entry (out/main/data-thread.js); the
 * process entry (worker or CLI) knows where it is and says so here.
 */
export function setDataThreadEntry(path: string): void {
  builtEntry = path
}

/**
 * Where a clean job's worker thread starts. From source (tests, benchmarks), the
 * TypeScript file is loaded through tsx, registered inside the thread by a two-line
 * bootstrap: Node 20 ignores `--import` in a worker's execArgv.
 */
export function dataThreadEntry(): string | URL {
  if (builtEntry) return builtEntry
  // The ESM build of tsx's API (its CommonJS build registers from the wrong folder).
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const tsx = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href
  const thread = new URL('./thread.ts', import.meta.url).href
  const bootstrap = [
    `const api = await import(${JSON.stringify(tsx)})`,
    `api.register()`,
    `await import(${JSON.stringify(thread)})`,
  ].join('\n')
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`)
}
