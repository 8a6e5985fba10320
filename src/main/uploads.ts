import { readdirSync, rmSync, statSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'

/**
 * Files a browser uploaded for import (`frugal serve`, where a dropped file has no
 * server path). Each upload lives in its own random folder under
 * `<user data>/uploads/`; imports delete theirs when done, and leftovers older than a
 * day are swept when the server starts.
 */
export function uploadsDir(userDataDir: string): string {
  return join(userDataDir, 'uploads')
}

/** Whether a path lies inside the uploads folder (and so may be deleted by Frugal). */
export function isUpload(userDataDir: string, path: string): boolean {
  const rel = relative(uploadsDir(userDataDir), resolve(path))
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && rel.includes(sep)
}

/** Delete an uploaded file with its folder. Paths outside the uploads folder are ignored. */
export function removeUpload(userDataDir: string, path: string): void {
  if (!isUpload(userDataDir, path)) return
  const first = relative(uploadsDir(userDataDir), resolve(path)).split(sep)[0]
  rmSync(join(uploadsDir(userDataDir), first), { recursive: true, force: true })
}

/** Remove upload folders older than `maxAgeMs` (an import that never ran, a crash). */
export function sweepUploads(
  userDataDir: string,
  maxAgeMs = 24 * 3600 * 1000,
  now = Date.now(),
): void {
  const dir = uploadsDir(userDataDir)
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return
  }
  for (const name of entries) {
    const path = join(dir, name)
    try {
      if (now - statSync(path).mtimeMs > maxAgeMs) rmSync(path, { recursive: true, force: true })
    } catch {
      /* vanished meanwhile */
    }
  }
}
