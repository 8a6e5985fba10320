#!/usr/bin/env node
// The `frugal` command: runs the built CLI (npm install builds it; `npm run build` rebuilds).
import { existsSync } from 'node:fs'

const cli = new URL('../out/main/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('frugal: not built yet. Run `npm run build` in the Frugal folder.\n')
  process.exit(1)
}
await import(cli.href)
