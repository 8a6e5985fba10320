import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  findBoundaryViolations,
  scanForViolations,
  SIBLING,
  sourceFiles,
} from '../../helpers/repo-boundary'

const root = resolve(import.meta.dirname, '..', '..', '..')
const here = join(root, 'test', 'e2e', 'example.spec.ts')
const check = (source: string) => findBoundaryViolations(here, source, root).map((v) => v.why)
// The attacks below are written with the folder names joined at run time, so this file
// itself names no path outside the clone.
const sib = SIBLING
const devRoot = ['', 'work'].join('/')
const home = ['', 'home'].join('/')

describe('tests stay inside the repository', () => {
  it('no test file reads a path outside the clone', () => {
    const files = [
      // This file's examples below are the attacks the checker must catch.
      ...sourceFiles(join(root, 'test')).filter((f) => f !== import.meta.filename),
      join(root, 'vitest.config.ts'),
      join(root, 'playwright.config.ts'),
    ]
    expect(files.length).toBeGreaterThan(50)
    const found = scanForViolations(files, root).map(
      (v) => `${v.file.slice(root.length + 1)}:${v.line} ${v.text} — ${v.why}`,
    )
    expect(found, 'use a fixture in test/fixtures instead').toEqual([])
  })

  it('catches the ways a path leaves the clone', () => {
    expect(check(`join(import.meta.dirname, '..', '..', '..', '${sib}', 'x.txt')`)).toEqual([
      expect.stringContaining('leaves the repository'),
    ])
    expect(check(`resolve(__dirname, '../../../outside.txt')`)).toHaveLength(1)
    expect(check(`path.join('..', 'other', 'file')`)).toHaveLength(1)
    expect(check(`readFileSync('${devRoot}/${sib}/data/tinyshakespeare.txt')`)).toHaveLength(1)
    expect(check(`readFileSync('${home}/me/corpus.txt')`)).toHaveLength(1)
    expect(check(`const p = '../${sib}/data/html-eval'`)).toHaveLength(1)
    expect(check(`import x from '../../../elsewhere/x'`)).toHaveLength(1)
    expect(check(`new URL('../../../x.txt', import.meta.url)`)).toHaveLength(1)
  })

  it('lets paths inside the clone and run-time folders through', () => {
    expect(check(`join(import.meta.dirname, '..', 'fixtures', 'text', 'a.txt')`)).toEqual([])
    expect(check(`join(dir, '..', 'secret.txt')`)).toEqual([])
    expect(check(`import { Store } from '../../src/store'`)).toEqual([])
    expect(check(`import { rules } from '../../src/shared/data/rules'`)).toEqual([])
    expect(check(`resolve('src/worker/index.ts')`)).toEqual([])
    expect(check(`writeFileSync('/tmp/frugal-x', 'y')`)).toEqual([])
  })
})
