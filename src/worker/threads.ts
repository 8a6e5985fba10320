import { createRequire } from 'node:module'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/** Entry points of the worker threads a training job starts. */
export interface ThreadEntries {
  /** A data-parallel replica (train/parallel/replica.ts). */
  replica: string
  /** The checkpoint writer (train/checkpoint/writer-thread.ts). */
  checkpointWriter: string
}

/**
 * Where the thread entries are, seen from a process entry module's `import.meta.url`:
 * beside it in the build (out/main/*.js), or the TypeScript sources when running from
 * src through tsx (tests, scripts). Computed in entry modules only: shared chunks live in
 * another folder of the build.
 */
export function threadEntries(entryUrl: string): ThreadEntries {
  const file = fileURLToPath(entryUrl)
  if (extname(file) === '.ts') {
    const src = resolve(dirname(file), '..')
    return {
      replica: join(src, 'worker', 'train', 'parallel', 'replica.ts'),
      checkpointWriter: join(src, 'worker', 'train', 'checkpoint', 'writer-thread.ts'),
    }
  }
  return {
    replica: join(dirname(file), 'replica.js'),
    checkpointWriter: join(dirname(file), 'checkpoint-writer.js'),
  }
}

/** Start a worker thread; TypeScript entries are loaded through tsx (development only). */
export function startThread(entry: string, workerData?: unknown): Worker {
  if (extname(entry) !== '.ts') return new Worker(entry, { workerData })
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const tsx = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(entry).href)}) })`
  return new Worker(code, { eval: true, workerData })
}
