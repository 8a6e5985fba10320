import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { z } from 'zod'
import { reviewKeysSchema } from '../shared/review-keys'
import type { AppSettings, RecentProject } from '../shared/types'

const MAX_RECENT = 12

const settingsSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']).catch('system'),
  reviewKeys: reviewKeysSchema.catch({}).default({}),
  recentProjects: z
    .array(z.object({ path: z.string(), openedAt: z.string() }))
    .catch([])
    .default([]),
})
type SettingsFileData = z.infer<typeof settingsSchema>

/**
 * App-level settings (theme, recent projects) in `settings.json` in the user-data
 * folder. Project data never lives here. Written atomically (temp file + rename); a
 * corrupt file is set aside and replaced by defaults rather than blocking start-up.
 */
export class SettingsFile {
  private data: SettingsFileData
  readonly path: string

  constructor(userDataDir: string) {
    this.path = join(userDataDir, 'settings.json')
    this.data = this.load()
  }

  get(): AppSettings {
    return { theme: this.data.theme, reviewKeys: this.data.reviewKeys }
  }

  update(patch: Partial<AppSettings>): AppSettings {
    this.data = { ...this.data, ...patch }
    this.save()
    return this.get()
  }

  recent(): RecentProject[] {
    return this.data.recentProjects.map((r) => ({
      path: r.path,
      openedAt: r.openedAt,
      name: basename(r.path, extname(r.path)),
      exists: existsSync(r.path),
    }))
  }

  addRecent(path: string, now: Date): void {
    const others = this.data.recentProjects.filter((r) => r.path !== path)
    this.data.recentProjects = [{ path, openedAt: now.toISOString() }, ...others].slice(
      0,
      MAX_RECENT,
    )
    this.save()
  }

  forgetRecent(path: string): void {
    this.data.recentProjects = this.data.recentProjects.filter((r) => r.path !== path)
    this.save()
  }

  private load(): SettingsFileData {
    if (!existsSync(this.path)) return settingsSchema.parse({})
    try {
      return settingsSchema.parse(JSON.parse(readFileSync(this.path, 'utf8')))
    } catch (err) {
      const aside = `${this.path}.corrupt-${Date.now()}`
      renameSync(this.path, aside)
      console.warn(
        `settings.json could not be read (${(err as Error).message}); moved it to ${aside}`,
      )
      return settingsSchema.parse({})
    }
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true })
    const tmp = `${this.path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(this.data, null, 2))
    renameSync(tmp, this.path)
  }
}
