import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** The data jobs' worker threads: the clean job's rules, and the import's file readers. */
export type DataThread = 'data-thread' | 'import-thread'

/** Each thread's TypeScript source, for runs from source. */
const sources: Record<DataThread, URL> = {
  'data-thread': new URL('./pipeline/thread.ts', import.meta.url),
  'import-thread': new URL('./import/reader-thread.ts', import.meta.url),
}

let builtDir: string | null = null

/**
 * The built app bundles each thread as its own entry (out/main/data-thread.js,
 * out/main/import-thread.js); the process entry (worker or CLI) knows where they are and
 * says so here.
 */
export function setDataThreadsDir(dir: string): void {
  builtDir = dir
}

/**
 * Where a data job's worker thread starts. From source (tests, benchmarks), the
 * TypeScript file is loaded through tsx, registered inside the thread by a two-line
 * bootstrap: Node 20 ignores `--import` in a worker's execArgv.
 */
export function dataThreadEntry(name: DataThread): string | URL {
  if (builtDir) return join(builtDir, `${name}.js`)
  // The ESM build of tsx's API (its CommonJS build registers from the wrong folder).
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const tsx = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href
  const bootstrap = [
    `const api = await import(${JSON.stringify(tsx)})`,
    `api.register()`,
    `await import(${JSON.stringify(sources[name].href)})`,
  ].join('\n')
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`)
}
