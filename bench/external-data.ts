import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * Data a benchmark measures on but the repository does not carry (it is large, or not ours
 * to redistribute). Tests never use it: they run on the small fixtures in test/fixtures.
 */
export interface ExternalData {
  /** File or folder name inside ../shared/data, where the development machines keep it. */
  name: string
  /** The environment variable that names it instead. */
  env: string
  /** Where a user gets it, for the message when it is missing. */
  source: string
}

export const tinyShakespeare: ExternalData = {
  name: 'tinyshakespeare.txt',
  env: 'FRUGAL_SHAKESPEARE',
  source:
    'https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt (1.1 MB)',
}

/** The `shared/data` folder beside the clone, if the machine has one. */
export const sharedDataDir = resolve(import.meta.dirname, '..', '..', 'shared', 'data')

/**
 * The path of `data`: `given` (a command-line option) first, then its environment
 * variable, then ../shared/data. When none exists the benchmark stops here with one line
 * saying what it needs and where to get it, not with a stack trace from a read.
 */
export function externalDataPath(data: ExternalData, given?: string): string {
  const path = resolve(given ?? process.env[data.env] ?? resolve(sharedDataDir, data.name))
  if (!existsSync(path)) {
    console.error(
      `This benchmark needs ${data.name}, not found at ${path}. Get it from ${data.source}, ` +
        `then pass its path in ${data.env} (or put it in ${sharedDataDir}).`,
    )
    process.exit(2)
  }
  return path
}
