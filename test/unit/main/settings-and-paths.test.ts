import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultUserDataDir } from '../../../src/main/paths'
import { chordLabel, chordOf, reviewKeysSchema } from '../../../src/shared/review-keys'
import { SettingsFile } from '../../../src/main/settings'
import {
  checkExistingProject,
  checkNewProject,
  resolveUserPath,
} from '../../../src/main/user-paths'
import { useTempDir } from '../../helpers/temp'

const tempDir = useTempDir()

describe('app settings file', () => {
  it('keeps the theme, review keys and a most-recent-first list of projects across restarts', () => {
    const dir = tempDir()
    const a = new SettingsFile(dir)
    a.update({ theme: 'dark', reviewKeys: { keep: ['k'], prev: ['ArrowLeft'] } })
    a.addRecent('/p/one.frugal', new Date('2026-01-01'))
    a.addRecent('/p/two.frugal', new Date('2026-01-02'))
    a.addRecent('/p/one.frugal', new Date('2026-01-03'))
    const b = new SettingsFile(dir)
    expect(b.get()).toEqual({ theme: 'dark', reviewKeys: { keep: ['k'], prev: ['ArrowLeft'] } })
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
    expect(s.get()).toEqual({ theme: 'system', reviewKeys: {} })
    expect(readdirSync(dir).some((f) => f.startsWith('settings.json.corrupt-'))).toBe(true)
  })
})

describe('review keys', () => {
  it('refuses a key two commands would share, and the keys of labels and help', () => {
    expect(reviewKeysSchema.safeParse({ keep: ['x'] }).error?.issues[0].message).toBe(
      'x is already the key for "Keep, and go to the next undecided document".',
    )
    expect(reviewKeysSchema.safeParse({ note: ['3'] }).success).toBe(false)
    expect(reviewKeysSchema.safeParse({ note: ['?'] }).success).toBe(false)
    expect(reviewKeysSchema.safeParse({ keep: ['Mod+Enter'], remove: ['Delete'] }).success).toBe(
      true,
    )
  })

  it('names key presses as chords, Shift only where it is a modifier', () => {
    const press = (
      key: string,
      mods: Partial<Record<'ctrl' | 'meta' | 'alt' | 'shift', boolean>> = {},
    ) =>
      chordOf(
        {
          key,
          ctrlKey: !!mods.ctrl,
          metaKey: !!mods.meta,
          altKey: !!mods.alt,
          shiftKey: !!mods.shift,
        },
        false,
      )
    expect(press('a')).toBe('a')
    expect(press(' ')).toBe('Space')
    expect(press('Z', { ctrl: true, shift: true })).toBe('Mod+Shift+z')
    expect(press('?', { shift: true })).toBe('?')
    expect(press('ArrowRight')).toBe('ArrowRight')
    expect(chordLabel('Mod+Shift+z', false)).toBe('Ctrl+Shift+Z')
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
