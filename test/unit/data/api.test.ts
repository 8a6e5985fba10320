import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../../src/main/serve/server'
import { uploadsDir } from '../../../src/main/uploads'
import type { EventMap } from '../../../src/shared/events'
import type { ApiResult } from '../../../src/shared/errors'
import { makeImportFolder } from '../../helpers/data-fixtures'
import { takeDocs } from '../../helpers/synthetic-corpus'
import { useApiBackend } from '../../helpers/api'
import { useTempDir } from '../../helpers/temp'
import { sqlOf } from '../../helpers/sql'
import { waitUntil } from '../../helpers/wait'

const tempDir = useTempDir('frugal-data-api-')
const apiBackend = useApiBackend()
let server: RunningServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

function setup() {
  const dir = tempDir()
  return { dir, ...apiBackend(dir) }
}

describe('data API with real worker processes', () => {
  it('imports, cleans, lists documents with their reasons, labels and retrains', async () => {
    const { dir, call, fails, finished } = setup()
    const file = join(dir, 'corpus.jsonl')
    writeFileSync(
      file,
      takeDocs(300)
        .map((d) => JSON.stringify({ text: d.text }))
        .join('\n'),
    )
    const imported = await finished(await call('data.import', { dataset: 'web', paths: [file] }))
    expect(imported.state).toBe('succeeded')
    const [dataset] = await call('datasets.list', {})
    expect(dataset).toMatchObject({ name: 'web', documents: 300, counts: { pending: 300 } })

    const cleaned = await finished(await call('data.clean', { datasetId: dataset.id }))
    expect(cleaned.state).toBe('succeeded')
    const stats = await call('data.stats', { datasetId: dataset.id })
    expect(stats.counts.pending).toBe(0)
    expect(stats.byRule.length).toBeGreaterThan(2)
    expect(stats.model?.trainedOn).toBe('rules')

    const removed = await call('data.documents', {
      datasetId: dataset.id,
      status: 'removed',
      limit: 5,
    })
    expect(removed.total).toBeGreaterThan(0)
    const doc = await call('data.document', { id: removed.items[0].id })
    expect(doc.reasons.find((r) => r.rule === doc.decisionRule)?.action).toBe('remove')

    // Reviewer verdicts override; with retrainEvery = 2 the second label retrains by itself.
    const rules = await call('data.rules', { datasetId: dataset.id })
    expect(rules).toMatchObject({ ruleSetId: null, name: null })
    await call('data.saveRules', {
      datasetId: dataset.id,
      name: 'eager',
      rules: { ...rules.rules, quality: { ...rules.rules.quality, retrainEvery: 2 } },
    })
    expect(await call('data.rules', { datasetId: dataset.id })).toMatchObject({ name: 'eager' })
    const kept = await call('data.documents', { datasetId: dataset.id, status: 'kept', limit: 2 })
    const first = await call('data.decide', {
      documentId: kept.items[0].id,
      decision: 'remove',
      note: 'off topic',
    })
    expect(first.document).toMatchObject({ status: 'removed', decidedBy: 'reviewer' })
    expect(first.retrainJob).toBeNull()
    const second = await call('data.decide', { documentId: removed.items[0].id, decision: 'keep' })
    expect(second.retrainJob?.kind).toBe('data.quality')
    expect((await finished(second.retrainJob!)).state).toBe('succeeded')
    expect((await call('data.stats', { datasetId: dataset.id })).model).toMatchObject({
      trainedOn: 'decisions+rules',
      decisions: 2,
    })

    // Clearing the verdict restores the pipeline's own decision (by now the retrained model's).
    const cleared = await call('data.decide', { documentId: kept.items[0].id, decision: null })
    const after = await call('data.document', { id: kept.items[0].id })
    expect(cleared.document).toMatchObject({ decision: null, status: after.autoStatus })
    expect(cleared.document.decidedBy).not.toBe('reviewer')

    // Exports go only where a user may write, never over a file unless asked.
    expect(
      (await fails('data.export', { datasetId: dataset.id, out: 'relative.jsonl' })).code,
    ).toBe('invalid_params')
    const out = join(dir, 'kept.jsonl')
    const { kept: keptNow } = (await call('data.stats', { datasetId: dataset.id })).counts
    const exported = await finished(await call('data.export', { datasetId: dataset.id, out }))
    expect(exported.result).toMatchObject({ documents: keptNow })
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(keptNow)
    expect((await fails('data.export', { datasetId: dataset.id, out })).code).toBe('conflict')
    // The generic jobs.start cannot be used to skip those checks.
    const around = await fails('jobs.start', {
      kind: 'data.export',
      params: { datasetId: dataset.id, out, overwrite: true },
    })
    expect(around).toMatchObject({ code: 'invalid_params', field: 'kind' })
  })

  it('reports corrupt files with file and line through the API, and a cancelled import leaves nothing', async () => {
    const { dir, call, backend, finished } = setup()
    const folder = makeImportFolder(dir)
    const job = await finished(
      await call('data.import', { dataset: 'pages', paths: [folder.root] }),
    )
    const report = job.result as { errors: { file: string; line: number | null }[] }
    expect(report.errors.map((e) => e.file)).toContain(join(folder.root, 'extra', 'photo.txt'))
    const [ds] = await call('datasets.list', {})
    expect((await call('data.imports', { datasetId: ds.id }))[0].errors).toHaveLength(
      folder.corrupt.length,
    )

    const big = join(dir, 'big.jsonl')
    writeFileSync(
      big,
      Array.from({ length: 200_000 }, (_, i) =>
        JSON.stringify({ text: `Document ${i} of a long file.` }),
      ).join('\n'),
    )
    const started = await call('data.import', { dataset: 'big', paths: [big] })
    await new Promise<void>((resolve) => {
      const stop = backend.ctx.events.subscribe((e) => {
        const p = e.payload as EventMap['job.progress']
        if (
          e.topic === 'job.progress' &&
          p.id === started.id &&
          (p.progress.metrics?.documents ?? 0) > 0
        ) {
          stop()
          resolve()
        }
      })
    })
    backend.ctx.jobs.cancel(started.id)
    expect((await finished(started)).state).toBe('cancelled')
    expect((await call('datasets.list', {})).map((d) => d.name)).toEqual(['pages'])
    const count = sqlOf(backend.ctx.project.require())
      .prepare(`SELECT COUNT(*) AS n FROM documents WHERE source LIKE '%big.jsonl%'`)
      .get()
    expect(count).toEqual({ n: 0 })
  })

  it('accepts streamed uploads in serve mode and deletes them once imported', async () => {
    const { dir, call, backend, finished } = setup()
    server = await startServer({
      router: backend.router,
      events: backend.ctx.events,
      staticDir: dir,
      port: 0,
      uploads: { dir: uploadsDir(backend.ctx.userDataDir), maxBytes: 4096 },
    })
    const url = (name: string) =>
      `http://127.0.0.1:${server!.port}/api/upload?name=${encodeURIComponent(name)}`
    const auth = { Authorization: `Bearer ${server.token}` }
    const body = takeDocs(3)
      .map((d) => JSON.stringify({ text: d.text.slice(0, 400) }))
      .join('\n')
    expect((await fetch(url('x.jsonl'), { method: 'PUT', body })).status).toBe(401)
    expect(
      (await fetch(url('big.jsonl'), { method: 'PUT', headers: auth, body: 'x'.repeat(5000) }))
        .status,
    ).toBe(413)
    const res = await fetch(url('../../evil/notes.jsonl'), { method: 'PUT', headers: auth, body })
    const uploaded = (await res.json()) as ApiResult<{ path: string; bytes: number }>
    expect(uploaded.ok).toBe(true)
    if (!uploaded.ok) return
    expect(uploaded.value.path.startsWith(uploadsDir(backend.ctx.userDataDir))).toBe(true)
    expect(uploaded.value.path.endsWith('notes.jsonl')).toBe(true)
    expect(uploaded.value.bytes).toBe(Buffer.byteLength(body))
    const job = await finished(
      await call('data.import', { dataset: 'uploaded', paths: [uploaded.value.path] }),
    )
    expect(job.state).toBe('succeeded')
    expect((job.result as { imported: number }).imported).toBe(3)
    // The upload is removed once imported (after the job's result is out).
    const path = uploaded.value.path
    await waitUntil(() => !existsSync(path), 'the imported upload to be removed')
  })

  it('deletes a dataset in the background, and finishes an interrupted deletion on open', async () => {
    const { dir, call, finished, backend } = setup()
    const ids: Record<string, number> = {}
    for (const name of ['first', 'second']) {
      const file = join(dir, `${name}.jsonl`)
      writeFileSync(
        file,
        takeDocs(40)
          .map((d) => JSON.stringify({ text: d.text }))
          .join('\n'),
      )
      const job = await finished(await call('data.import', { dataset: name, paths: [file] }))
      ids[name] = (job.result as { datasetId: number }).datasetId
    }
    const job = await call('data.deleteDataset', { datasetId: ids.first })
    expect(job.kind).toBe('data.delete')
    // Listed nowhere from the moment it is asked for.
    expect((await call('datasets.list', {})).map((d) => d.name)).toEqual(['second'])
    const done = await finished(job)
    expect(done.state).toBe('succeeded')
    expect(done.result).toEqual({ datasetId: ids.first, name: 'first', documents: 40 })

    // Marked, but its job never ran (the app quit): opening the project finishes it.
    const store = backend.ctx.project.require()
    store.datasets.markForDeletion(ids.second, new Date().toISOString())
    expect(store.documents.count(ids.second)).toBe(40)
    backend.ctx.project.open(store.path)
    const resumed = backend.ctx.jobs.active().find((j) => j.kind === 'data.delete')
    expect(resumed?.params).toEqual({ datasetId: ids.second })
    expect((await finished(resumed!)).state).toBe('succeeded')
    const reopened = backend.ctx.project.require()
    expect(reopened.documents.countAll()).toBe(0)
    expect(reopened.datasets.pendingDeletions()).toEqual([])
    expect(await call('datasets.list', {})).toEqual([])
  })
})
