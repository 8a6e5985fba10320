/**
 * The `frugal` command line. Batch jobs run the same code as the app's workers.
 *
 *   frugal serve [--db FILE] [--port N] [--host H] [--json]
 *   frugal project create|info|backup|check ...
 *   frugal data import|clean|export|stats|rules|list ...
 *   frugal tokenizer train --dataset NAME --vocab N
 *   frugal train --config run.json | --resume RUN
 *   frugal export --run RUN --out DIR [--dtype fp32|bf16|fp16|int8]
 *   frugal eval --run RUN --kind perplexity [--dataset NAME] | --kind mc --data DIR [--shots K]
 *   frugal generate --run RUN --prompt TEXT [--temperature T] [--top-k K] [--top-p P]
 *   frugal score --run REWARD_RUN --prompt TEXT --reply A B … [--chat]
 *
 * Every command takes --db (default: the app's default project) and --json
 * (machine-readable output on stdout, human progress on stderr).
 */
import { Command } from 'commander'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultProjectPath, defaultUserDataDir } from '../main/paths'
import { appVersion } from '../main/version'
import { registerDataCommands } from './data'
import { registerModelCommands } from './models'
import { registerProjectCommands } from './project'
import { setDataThreadsDir } from '../worker/data/thread-entry'
import { registerServeCommand } from './serve'
import { registerTrainCommands } from './train'
import { setCliThreadEntries } from './run-job'
import { threadEntries } from '../worker/threads'

// Paths are resolved here, in the entry module: shared chunks live elsewhere in out/.
const here = dirname(fileURLToPath(import.meta.url))
const userDataDir = defaultUserDataDir()
const defaultDb = defaultProjectPath(userDataDir)
// Data commands run the import and clean jobs in this process; their threads are sibling entries.
if (import.meta.url.endsWith('.js')) setDataThreadsDir(here)

setCliThreadEntries(threadEntries(import.meta.url))

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
registerDataCommands(program, defaultDb)
registerTrainCommands(program, defaultDb)
registerModelCommands(program, defaultDb)

await program.parseAsync(process.argv)
