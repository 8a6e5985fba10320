import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultUserDataDir } from '../../../src/main/paths'
import { SettingsFile } from '../../../src/main/settings'
import {
  checkExistingProject,
  checkNewProject,
  resolveUserPath,
} from '../../../src/main/user-paths'
import { useTempDir } from '../../helpers/temp'

const tempDir = useTempDir()

describe('app settings file', () => {
  it('keeps the theme and a most-recent-first list of projects across restarts', () => {
    const dir = tempDir()
    const a = new SettingsFile(dir)
    a.update({ theme: 'dark' })
    a.addRecent('/p/one.frugal', new Date('2026-01-01'))
    a.addRecent('/p/two.frugal', new Date('2026-01-02'))
    a.addRecent('/p/one.frugal', new Date('2026-01-03'))
    const b = new SettingsFile(dir)
    expect(b.get()).toEqual({ theme: 'dark' })
    expect(b.recent().map((r) => [r.name, r.exists])).toEqual([
      ['one', false],
      ['two', false],
    ])
    b.forgetRecent('/p/two.frugal')
    expect(new SettingsFile(dir).recent()).toHaveLength(1)
  })

  it('sets a corrupt settings file aside instead of refusing to start', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'settings.json'), '{ this is not json')
    const s = new SettingsFile(dir)
    expect(s.get()).toEqual({ theme: 'system' })
    expect(readdirSync(dir).some((f) => f.startsWith('settings.json.corrupt-'))).toBe(true)
  })
})

describe('user-supplied paths', () => {
  it('expands ~ and insists on absolute paths', () => {
    expect(resolveUserPath('~/x.frugal', 'path')).toBe(join(homedir(), 'x.frugal'))
    expect(() => resolveUserPath('projects/x.frugal', 'path')).toThrow(/Use a full path/)
  })

  it('adds the extension to new projects and refuses missing folders and existing files', () => {
    const dir = tempDir()
    expect(checkNewProject(join(dir, 'fresh'))).toBe(join(dir, 'fresh.frugal'))
    expect(() => checkNewProject(join(dir, 'nope', 'x.frugal'))).toThrow(/folder .* does not exist/)
    writeFileSync(join(dir, 'taken.frugal'), '')
    expect(() => checkNewProject(join(dir, 'taken.frugal'))).toThrow(/already exists/)
    expect(() => checkExistingProject(dir)).toThrow(/is a folder/)
    expect(existsSync(join(dir, 'fresh.frugal'))).toBe(false)
  })

  it('puts user data where Electron would, unless FRUGAL_HOME says otherwise', () => {
    expect(defaultUserDataDir({ FRUGAL_HOME: '/data/frugal' })).toBe('/data/frugal')
    expect(defaultUserDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe('/cfg/Frugal')
    expect(defaultUserDataDir({ APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'win32')).toMatch(
      /Roaming.Frugal$/,
    )
  })
})
