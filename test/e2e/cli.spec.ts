import { test, expect } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runFrugal } from './fixtures'

const frugal = runFrugal

let dir: string
test.beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'frugal-cli-'))))
test.afterEach(() => rmSync(dir, { recursive: true, force: true }))

test('frugal --help lists the commands', () => {
  const r = frugal(['--help'], dir)
  expect(r.code).toBe(0)
  expect(r.stdout).toContain('serve [options]')
  expect(r.stdout).toContain('project')
})

test('project commands print JSON on stdout with --json', () => {
  const created = frugal(['project', 'create', join(dir, 'p'), '--json'], dir)
  expect(created.code).toBe(0)
  expect(JSON.parse(created.stdout)).toMatchObject({
    name: 'p',
    path: join(dir, 'p.frugal'),
    schemaVersion: expect.any(Number),
  })

  const backup = frugal(
    ['project', 'backup', '--db', join(dir, 'p.frugal'), '--out', join(dir, 'b'), '--json'],
    dir,
  )
  expect(JSON.parse(backup.stdout)).toMatchObject({ path: join(dir, 'b.frugal') })

  const check = frugal(['project', 'check', '--db', join(dir, 'b.frugal'), '--json'], dir)
  expect(check.code).toBe(0)
  expect(JSON.parse(check.stdout)).toEqual({ ok: true, problems: [] })

  const info = frugal(['project', 'info', '--db', join(dir, 'p.frugal')], dir)
  expect(info.stdout).toMatch(/Schema\s+version \d+/)
})

test('paths on the command line are relative to the working directory', () => {
  const created = frugal(['project', 'create', 'rel', '--json'], dir, dir)
  expect(JSON.parse(created.stdout)).toMatchObject({ path: join(dir, 'rel.frugal') })
  const info = frugal(['project', 'info', '--db', 'rel.frugal', '--json'], dir, dir)
  expect(info.code).toBe(0)
  expect(JSON.parse(info.stdout)).toMatchObject({ path: join(dir, 'rel.frugal') })
  const backup = frugal(
    ['project', 'backup', '--db', 'rel.frugal', '--out', 'copy', '--json'],
    dir,
    dir,
  )
  expect(JSON.parse(backup.stdout)).toMatchObject({ path: join(dir, 'copy.frugal') })
})

test('user errors go to stderr with exit code 1 and a JSON error with --json', () => {
  frugal(['project', 'create', join(dir, 'p.frugal')], dir)
  const again = frugal(['project', 'create', join(dir, 'p.frugal'), '--json'], dir)
  expect(again.code).toBe(1)
  expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: 'conflict' } })
  expect(again.stderr).toContain('already exists')

  // Every command that opens a project answers a missing one the same way, with the command
  // that creates it.
  for (const command of [
    ['project', 'info'],
    ['data', 'import', dir, '--dataset', 'd'],
    ['data', 'list'],
    ['train', '--config', join(dir, 'run.json')],
    ['eval', '--run', 'r'],
  ]) {
    const missing = frugal([...command, '--db', 'new project.frugal'], dir, dir)
    expect(missing.code, command.join(' ')).toBe(1)
    expect(missing.stderr, command.join(' ')).toContain(
      `There is no project file at ${join(dir, 'new project.frugal')}. ` +
        "Create one with: frugal project create 'new project.frugal'",
    )
  }

  const port = frugal(['serve', '--port', 'eighty'], dir)
  expect(port.code).toBe(1)
  expect(port.stderr).toContain('--port must be a number')
})
