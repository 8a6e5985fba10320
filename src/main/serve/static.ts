import { createReadStream, statSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
}

/**
 * Serve a file of the built renderer. Paths are confined to `root`; unknown paths
 * without an extension get index.html (client-side routes).
 */
export function serveStatic(root: string, pathname: string, res: ServerResponse): void {
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    res.writeHead(400).end('Bad path')
    return
  }
  const base = normalize(root)
  let file = normalize(join(base, decoded))
  if (file !== base && !file.startsWith(base + sep)) {
    res.writeHead(403).end('Forbidden')
    return
  }
  if (!isFile(file)) {
    if (extname(decoded) !== '') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found')
      return
    }
    file = join(base, 'index.html')
    if (!isFile(file)) {
      res
        .writeHead(500, { 'Content-Type': 'text/plain' })
        .end('The renderer is not built: run `npm run build`.')
      return
    }
  }
  const hashedAsset = decoded.startsWith('/assets/')
  res.writeHead(200, {
    'Content-Type': contentTypes[extname(file)] ?? 'application/octet-stream',
    'Cache-Control': hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
  })
  // A file that vanishes or cannot be read after the headers: cut this response off.
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res)
}

/** Whether `path` is a file we can stat: a name too long or a folder we may not enter is not. */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
