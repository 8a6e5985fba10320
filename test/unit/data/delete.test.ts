import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { runImport } from '../../../src/worker/data/import/importer'
import { deleteDataset } from '../../../src/worker/data/delete-dataset'
import { quietJobDeps } from '../../helpers/job-deps'
import { useTempDir } from '../../helpers/temp'
import { sqlOf } from '../../helpers/sql'

const tempDir = useTempDir('frugal-delete-')

const importDeps = quietJobDeps

/** A dataset of `n` short documents, each holding `word`. */
async function dataset(store: Store, dir: string, name: string, n: number, word: string) {
  const file = join(dir, `${name}.jsonl`)
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ text: `Document ${i} of ${name} mentions ${word} once.` }),
  )
  writeFileSync(file, lines.join('\n'))
  const report = await runImport(
    { dataset: name, paths: [file], format: 'auto' },
    importDeps(store),
  )
  return report.datasetId
}

const matches = (store: Store, word: string) =>
  sqlOf(store)
    .prepare<[string], number>('SELECT COUNT(*) FROM documents_fts WHERE documents_fts MATCH ?')
    .pluck()
    .get(word)

describe('deleting a dataset', () => {
  it('hides it at once, frees its name, and removes everything of it in chunks', async () => {
    const dir = tempDir()
    const store = Store.create(join(dir, 'p.frugal'))
    const doomed = await dataset(store, dir, 'doomed', 4_500, 'zebracorn')
    const kept = await dataset(store, dir, 'kept', 50, 'narwhal')
    const firstDoc = sqlOf(store)
      .prepare<[number], number>('SELECT MIN(id) FROM documents WHERE dataset_id = ?')
      .pluck()
      .get(doomed)!
    store.review.decide(firstDoc, 'remove', new Date().toISOString())
    expect(matches(store, 'zebracorn')).toBe(4_500)
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM document_decisions').get()).toEqual({
      n: 1,
    })

    store.datasets.markForDeletion(doomed, new Date().toISOString())
    // Gone from every list and lookup before a single document is deleted.
    expect(store.datasets.list().map((d) => d.name)).toEqual(['kept'])
    expect(store.dataStats.summaries().map((d) => d.name)).toEqual(['kept'])
    expect(store.datasets.get(doomed)).toBeNull()
    expect(store.datasets.exists(doomed)).toBe(false)
    expect(store.info().counts.datasets).toBe(1)
    expect(() => store.datasets.markForDeletion(doomed, new Date().toISOString())).toThrow(
      /no dataset/,
    )
    // Its name can be used again right away.
    const again = await dataset(store, dir, 'doomed', 3, 'okapi')
    expect(again).not.toBe(doomed)
    expect(store.datasets.byName('doomed')?.documents).toBe(3)

    // Cancelled after the first chunk: still hidden, part of it deleted, resumable.
    let checks = 0
    await expect(
      deleteDataset(store, doomed, {
        progress: () => undefined,
        throwIfCancelled: () => {
          if (++checks > 1) throw new Error('cancelled')
        },
      }),
    ).rejects.toThrow('cancelled')
    const left = store.documents.count(doomed)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThan(4_500)
    expect(store.datasets.pendingDeletions()).toEqual([{ datasetId: doomed, name: 'doomed' }])
    expect(store.datasets.get(doomed)).toBeNull()

    const progress: { done: number; total: number | null }[] = []
    const result = await deleteDataset(store, doomed, {
      progress: (p) => progress.push({ done: p.done, total: p.total }),
      throwIfCancelled: () => undefined,
    })
    expect(result).toEqual({ datasetId: doomed, name: 'doomed', documents: left })
    expect(progress.at(-1)).toEqual({ done: left, total: left })
    expect(progress.length).toBeGreaterThan(2)
    expect(store.documents.count(doomed)).toBe(0)
    expect(matches(store, 'zebracorn')).toBe(0)
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM document_decisions').get()).toEqual({
      n: 0,
    })
    expect(store.datasets.pendingDeletions()).toEqual([])
    expect(sqlOf(store).prepare('SELECT 1 FROM datasets WHERE id = ?').get(doomed)).toBeUndefined()
    // The others are untouched.
    expect(store.documents.count(kept)).toBe(50)
    expect(matches(store, 'narwhal')).toBe(50)
    expect(matches(store, 'okapi')).toBe(3)
    await expect(
      deleteDataset(store, doomed, {
        progress: () => undefined,
        throwIfCancelled: () => undefined,
      }),
    ).rejects.toThrow(/not waiting to be deleted/)
    store.close()
  })
})
