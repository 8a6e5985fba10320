import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'
import type { Plugin } from 'vite'
import { resolve } from 'node:path'
import { contentSecurityPolicy } from './src/shared/csp'

/** Put the production CSP into the built index.html (dev needs inline scripts for HMR). */
function cspMetaTag(): Plugin {
  return {
    name: 'frugal-csp',
    apply: 'build',
    transformIndexHtml: (html) =>
      html.replace(
        '<meta charset="UTF-8" />',
        `<meta charset="UTF-8" />\n    <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy}" />`,
      ),
  }
}

// The native tfjs backends are optional: never bundle them, load them at run time if present.
// `webgpu` (Dawn's dawn.node) is native too, and its index.js declares a `require` of its
// own that collides with the bundle's; it is loaded from node_modules like them.
const nodeNative = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu']

export default defineConfig({
  main: {
    build: {
      // Three Node entries share chunks: the Electron main process, the `frugal` CLI
      // (which also runs `serve`), and the worker that runs jobs.
      rolldownOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          cli: resolve('src/cli/index.ts'),
          worker: resolve('src/worker/index.ts'),
          // The clean job's worker threads (src/worker/data/pipeline/pool.ts).
          'data-thread': resolve('src/worker/data/pipeline/thread.ts'),
          // The import's file readers (src/worker/data/import/reader-threads.ts).
          'import-thread': resolve('src/worker/data/import/reader-thread.ts'),
          // Training's worker threads: data-parallel replicas and the checkpoint writer.
          replica: resolve('src/worker/train/parallel/replica.ts'),
          'checkpoint-writer': resolve('src/worker/train/checkpoint/writer-thread.ts'),
        },
        external: nodeNative,
      },
      sourcemap: true,
    },
  },
  preload: {
    build: {
      // Sandboxed preloads cannot be ES modules.
      rolldownOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    plugins: [react(), cspMetaTag()],
    build: {
      rolldownOptions: { input: resolve('src/renderer/index.html') },
      minify: true,
      sourcemap: true,
    },
  },
})
