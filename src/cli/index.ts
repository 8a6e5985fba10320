/**
 * The `frugal` command line. Batch jobs run the same code as the app's workers.
 *
 *   frugal serve [--db FILE] [--port N] [--host H] [--json]
 *   frugal project create|info|backup|check ...
 *
 * Every command takes --db (default: the app's default project) and --json
 * (machine-readable output on stdout, human progress on stderr).
 */
import { Command } from 'commander'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultProjectPath, defaultUserDataDir } from '../main/paths'
import { appVersion } from '../main/version'
import { registerProjectCommands } from './project'
import { registerServeCommand } from './serve'

// Paths are resolved here, in the entry module: shared chunks live elsewhere in out/.
const here = dirname(fileURLToPath(import.meta.url))
const userDataDir = defaultUserDataDir()
const defaultDb = defaultProjectPath(userDataDir)

const program = new Command('frugal')
  .description('Frugal: train small, efficient language models on your own machine, offline.')
  .version(appVersion)
  .showHelpAfterError()

registerServeCommand(
  program,
  { workerEntry: join(here, 'worker.js'), rendererDir: join(here, '..', 'renderer'), userDataDir },
  defaultDb,
)
registerProjectCommands(program, defaultDb)

await program.parseAsync(process.argv)
