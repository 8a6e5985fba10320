import type { Command } from 'commander'
import { createBackend } from '../main/backend'
import { nodeWorkerSpawner } from '../main/jobs/node-worker'
import { startServer } from '../main/serve/server'
import { DEFAULT_MAX_UPLOAD_BYTES } from '../main/serve/upload'
import { sweepUploads, uploadsDir } from '../main/uploads'
import { isLoopback } from '../main/serve/auth'
import { UserError } from '../shared/errors'
import { runCommand } from './output'
import { fromWorkingDir } from './paths'

export interface ServePaths {
  /** Built worker entry (out/main/worker.js). */
  workerEntry: string
  /** Built renderer (out/renderer). */
  rendererDir: string
  userDataDir: string
}

interface ServeOptions {
  db: string
  host: string
  port: string
  token?: string
  json?: boolean
}

export const DEFAULT_PORT = 5790

/** `frugal serve`: the whole app, headless, in any browser. */
export function registerServeCommand(program: Command, paths: ServePaths, defaultDb: string): void {
  program
    .command('serve')
    .description('run Frugal without a display and use it from a browser (token-protected)')
    .option('--db <file>', 'project file to open (created if missing)', defaultDb)
    .option(
      '--host <host>',
      'interface to listen on; anything but loopback exposes Frugal to the network',
      '127.0.0.1',
    )
    .option('--port <port>', 'port to listen on, 0 for any free one', String(DEFAULT_PORT))
    .option(
      '--token <token>',
      'access token (default: a new random one each start). Prefer FRUGAL_TOKEN: a command line is visible to other users in ps',
    )
    .option('--json', 'print one JSON line {url, host, port, db, pid} on stdout once listening')
    .action((opts: ServeOptions) =>
      runCommand(!!opts.json, async (out) => {
        const port = Number(opts.port)
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new UserError(
            'invalid_params',
            `--port must be a number from 0 to 65535, not "${opts.port}".`,
          )
        }
        const token = opts.token ?? process.env.FRUGAL_TOKEN
        if (token !== undefined && token.length < 32) {
          throw new UserError(
            'invalid_params',
            'An access token must be at least 32 characters long.',
          )
        }
        const backend = createBackend({
          mode: 'serve',
          userDataDir: paths.userDataDir,
          spawnWorker: nodeWorkerSpawner(paths.workerEntry),
        })
        const project = backend.ctx.project.openOrCreate(fromWorkingDir(opts.db))
        sweepUploads(paths.userDataDir)
        void backend.ctx.backend.probe()
        let server
        try {
          server = await startServer({
            router: backend.router,
            events: backend.ctx.events,
            staticDir: paths.rendererDir,
            host: opts.host,
            port,
            ...(token ? { token } : {}),
            // A browser's dropped files arrive here for import (see main/uploads.ts).
            uploads: { dir: uploadsDir(paths.userDataDir), maxBytes: DEFAULT_MAX_UPLOAD_BYTES },
          })
        } catch (err) {
          await backend.shutdown()
          const code = (err as NodeJS.ErrnoException).code
          if (code === 'EADDRINUSE')
            throw new UserError(
              'conflict',
              `Port ${port} is in use. Pick another with --port, or --port 0 for any free one.`,
            )
          if (code === 'EADDRNOTAVAIL')
            throw new UserError('invalid_params', `This machine has no interface ${opts.host}.`)
          throw err
        }
        if (!isLoopback(opts.host)) {
          out.note(
            `Warning: listening on ${opts.host}: anyone who can reach this machine and has the token can use Frugal.`,
          )
        }
        out.result(
          {
            url: server.url,
            host: server.host,
            port: server.port,
            db: project.path,
            pid: process.pid,
          },
          (r) => r.url,
        )
        out.note(
          `Frugal is serving ${project.path}\nOpen ${server.url} in a browser. Press Ctrl+C to stop.`,
        )

        const stop = async (): Promise<void> => {
          out.note('Stopping: cancelling jobs and closing the project…')
          await server.close()
          await backend.shutdown()
          process.exit(0)
        }
        process.once('SIGINT', () => void stop())
        process.once('SIGTERM', () => void stop())
      }),
    )
}
