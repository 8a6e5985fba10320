import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '..', '..', '..')

/** The project's own lint configuration run over `file`'s text with `planted` appended. */
async function lintWith(file: string, planted: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root })
  const text = `${readFileSync(join(root, file), 'utf8')}\n${planted}\n`
  const [result] = await eslint.lintText(text, { filePath: join(root, file) })
  return result.messages.map((m) => m.message)
}

describe('the store owns its SQL (eslint.config.js)', () => {
  it('refuses a statement planted in the data pipeline, as a string or a template', async () => {
    const messages = await lintWith(
      'src/worker/data/delete-dataset.ts',
      [
        `export const planted = 'DELETE FROM documents WHERE dataset_id = ?'`,
        'export const plantedToo = (t: string) => `SELECT id FROM ${t} WHERE id = ?`',
      ].join('\n'),
    )
    expect(messages.filter((m) => m.includes('SQL belongs in src/store'))).toHaveLength(2)
  }, 120_000)

  it('lets the store hold it, and prose that starts like SQL elsewhere', async () => {
    expect(
      await lintWith(
        'src/store/repos/datasets.ts',
        `export const planted = 'DELETE FROM documents WHERE dataset_id = ?'`,
      ),
    ).not.toContainEqual(expect.stringContaining('SQL belongs in src/store'))
    expect(
      await lintWith(
        'src/worker/data/delete-dataset.ts',
        `export const note = 'Select the documents to delete.'`,
      ),
    ).not.toContainEqual(expect.stringContaining('SQL belongs in src/store'))
  }, 120_000)
})
