import type { Command } from 'commander'
import { Store, backupProject } from '../store'
import { checkNewFile, checkNewProject } from '../main/user-paths'
import { fromWorkingDir, projectFromCli } from './paths'
import { countOf } from '../shared/plural'
import { appVersion } from '../main/version'
import type { ProjectInfo } from '../shared/types'
import { formatBytes, runCommand } from './output'
import { runJobInProcess } from './run-job'

interface DbOptions {
  db: string
  json?: boolean
}

function describeProject(info: ProjectInfo): string {
  return [
    `Project   ${info.name}`,
    `File      ${info.path} (${formatBytes(info.sizeBytes)})`,
    `Schema    version ${info.schemaVersion}`,
    `Created   ${info.createdAt}`,
    `Contents  ${countOf(info.counts.datasets, 'dataset')}, ${countOf(info.counts.documents, 'document')}, ${countOf(info.counts.jobs, 'job')}`,
  ].join('\n')
}

function withStore<T>(db: string, body: (store: Store) => T): T {
  const store = Store.open(projectFromCli(db))
  try {
    return body(store)
  } finally {
    store.close()
  }
}

/** `frugal project …`: create, inspect, back up and check project files. */
export function registerProjectCommands(program: Command, defaultDb: string): void {
  const project = program
    .command('project')
    .description('create, inspect, back up and check .frugal project files')

  project
    .command('create <file>')
    .description('create a new, empty project file (refuses to overwrite)')
    .option('--json', 'print the project as JSON on stdout')
    .action((file: string, opts: { json?: boolean }) =>
      runCommand(!!opts.json, (out) => {
        const store = Store.create(checkNewProject(fromWorkingDir(file), 'file'), { appVersion })
        try {
          out.result(store.info(), (i) => `Created ${i.path}`)
        } finally {
          store.close()
        }
      }),
    )

  project
    .command('info')
    .description('show what a project holds')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print JSON on stdout')
    .action((opts: DbOptions) =>
      runCommand(!!opts.json, (out) =>
        withStore(opts.db, (store) => out.result(store.info(), describeProject)),
      ),
    )

  project
    .command('backup')
    .description("copy a project safely, even while it is in use (SQLite's online backup)")
    .requiredOption('--out <file>', 'where to write the copy')
    .option('--overwrite', 'replace the destination if it exists')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print JSON on stdout')
    .action((opts: DbOptions & { out: string; overwrite?: boolean }) =>
      runCommand(!!opts.json, async (out) => {
        const store = Store.open(projectFromCli(opts.db))
        try {
          const target = checkNewFile(fromWorkingDir(opts.out), 'out', {
            extension: '.frugal',
            overwrite: !!opts.overwrite,
          })
          const result = await backupProject(store, target, { overwrite: !!opts.overwrite })
          out.result(
            result,
            (r) => `Backed up to ${r.path} (${formatBytes(r.bytes)}, ${r.wallMs} ms)`,
          )
        } finally {
          store.close()
        }
      }),
    )

  project
    .command('check')
    .description('verify the file (SQLite integrity check and references)')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print JSON on stdout')
    .action((opts: DbOptions) =>
      runCommand(!!opts.json, async (out) => {
        const db = projectFromCli(opts.db)
        withStore(db, () => undefined) // validates and migrates before the check runs
        const result = await runJobInProcess('project.integrityCheck', {}, db, out)
        out.result(result, (r) =>
          r.ok ? 'OK: no problems found.' : `Problems:\n${r.problems.join('\n')}`,
        )
        if (!result.ok) process.exitCode = 1
      }),
    )
}
