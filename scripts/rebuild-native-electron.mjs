#!/usr/bin/env node
/**
 * Builds better-sqlite3 for Electron's Node ABI into .electron-native/, beside (not over)
 * the build plain Node uses, so `npm test` and the CLI keep working. The desktop app
 * passes that file to better-sqlite3 as `nativeBinding`. Run it as `npm run desktop:native`
 * once per Electron upgrade. Needs network access to electronjs.org for the headers.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, rmSync, copyFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))
const electronVersion = require('electron/package.json').version
const sqliteDir = dirname(require.resolve('better-sqlite3/package.json'))
const outDir = join(root, '.electron-native')
const workDir = join(outDir, 'better-sqlite3')

// npm puts its own node-gyp in every script's environment.
const nodeGyp = process.env.npm_config_node_gyp
if (!nodeGyp || !existsSync(nodeGyp)) {
  console.error("Run this through npm: `npm run desktop:native` (it needs npm's node-gyp).")
  process.exit(1)
}

console.error(`Building better-sqlite3 for Electron ${electronVersion} (${process.arch})…`)
rmSync(workDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
cpSync(sqliteDir, workDir, {
  recursive: true,
  filter: (src) => !src.includes(`${sqliteDir}/build`),
})

const env = { ...process.env }
// A nodedir set for Node builds (as on Debian) would override Electron's headers.
delete env.npm_config_nodedir
delete env.NPM_CONFIG_NODEDIR
const result = spawnSync(
  process.execPath,
  [
    nodeGyp,
    'rebuild',
    '--release',
    `--target=${electronVersion}`,
    `--arch=${process.arch}`,
    '--dist-url=https://electronjs.org/headers',
  ],
  { cwd: workDir, env, stdio: 'inherit' },
)
if (result.status !== 0) {
  rmSync(workDir, { recursive: true, force: true })
  console.error(
    'The build failed. It needs a C++ toolchain and network access to electronjs.org for the headers.',
  )
  process.exit(result.status ?? 1)
}
copyFileSync(
  join(workDir, 'build', 'Release', 'better_sqlite3.node'),
  join(outDir, 'better_sqlite3.node'),
)
rmSync(workDir, { recursive: true, force: true })
console.error(`Done: ${join(outDir, 'better_sqlite3.node')}`)
