import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import type { ApiResult } from '../../shared/errors'

/** Default size limit of one upload: big enough for a real corpus file, not a disk filler. */
export const DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024 * 1024 * 1024

export interface UploadOptions {
  /** `<user data>/uploads` */
  dir: string
  maxBytes: number
}

/** A file name a browser sent, made safe: no folders, no control characters, bounded. */
export function safeUploadName(raw: string | null): string | null {
  if (!raw) return null
  const base = [...(raw.split(/[\\/]/).pop() ?? '')]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join('')
    .trim()
  if (base === '' || base === '.' || base === '..' || base.length > 255) return null
  return base
}

function send(res: ServerResponse, status: number, body: ApiResult<unknown>): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  })
  res.end(JSON.stringify(body))
}

/**
 * `PUT /api/upload?name=corpus.jsonl`: the raw request body is streamed to
 * `<uploads>/<random>/<name>` (never held in memory), written as `.partial` and renamed
 * when complete, so an interrupted upload leaves nothing an import could pick up.
 * Answers `{ok: true, value: {path, bytes}}`: the server path the import then uses.
 */
export async function handleUpload(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  options: UploadOptions,
): Promise<void> {
  if (req.method !== 'PUT') {
    res.writeHead(405, { Allow: 'PUT' }).end()
    return
  }
  const name = safeUploadName(url.searchParams.get('name'))
  if (!name) {
    send(res, 400, {
      ok: false,
      error: {
        code: 'invalid_params',
        message: 'The upload needs a file name (?name=).',
        field: 'name',
      },
    })
    return
  }
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    send(res, 413, {
      ok: false,
      error: {
        code: 'invalid_params',
        message: `The file is larger than the upload limit (${Math.round(options.maxBytes / 1048576)} MB). Put it on the server and import it by path.`,
      },
    })
    req.resume()
    return
  }
  const folder = join(options.dir, randomBytes(12).toString('hex'))
  const target = join(folder, name)
  const partial = `${target}.partial`
  let bytes = 0
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length
      if (bytes > options.maxBytes) done(new UploadTooLarge())
      else done(null, chunk)
    },
  })
  try {
    await mkdir(folder, { recursive: true })
    await pipeline(req, limit, createWriteStream(partial))
    await rename(partial, target)
    send(res, 200, { ok: true, value: { path: target, bytes } })
  } catch (err) {
    await rm(folder, { recursive: true, force: true })
    if (err instanceof UploadTooLarge)
      send(res, 413, {
        ok: false,
        error: {
          code: 'invalid_params',
          message:
            'The file is larger than the upload limit. Put it on the server and import it by path.',
        },
      })
    else if (!res.headersSent && !res.destroyed)
      send(res, 500, {
        ok: false,
        error: { code: 'io', message: `The upload failed: ${(err as Error).message}` },
      })
  }
}

class UploadTooLarge extends Error {
  constructor() {
    super('Upload too large')
  }
}
