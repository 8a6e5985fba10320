import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkInProject } from '../../../src/cli/run-job'
import { checkJob } from '../../../src/main/jobs/preconditions'
import { UserError } from '../../../src/shared/errors'
import type { JobRecord, StartJob } from '../../../src/shared/jobs'
import { Store } from '../../../src/store'
import { useTempDir } from '../../helpers/temp'
import { placeholderTokenizer } from '../../helpers/tokenizer-row'

const tempDir = useTempDir('frugal-preconditions-')

/** A project with the dataset "web". */
function project() {
  const dir = tempDir()
  const store = Store.create(join(dir, `p-${Math.random().toString(36).slice(2)}.frugal`))
  const datasetId = store.datasets.create('web', new Date().toISOString())
  return { dir, store, datasetId }
}

/** A run named `name` of `kind` with one (empty) checkpoint: its id and the checkpoint's. */
function runWithCheckpoint(store: Store, name: string, kind: 'pretrain' | 'reward') {
  const now = new Date().toISOString()
  store.runs.create(
    {
      id: name,
      name,
      modelConfig: {},
      trainConfig: { kind },
      data: { datasetId: null, tokenizerId: placeholderTokenizer(store, name), valFraction: 0.1 },
      tokenSetId: null,
      parentRunId: null,
      parentCheckpointId: null,
    },
    now,
  )
  const checkpoint = store.checkpoints.write({
    runId: name,
    step: 10,
    reason: 'interval',
    state: {},
    tensors: new Map(),
    trainLoss: null,
    valLoss: null,
    createdAt: now,
    fullEvery: 1,
  })
  return { runId: name, checkpointId: checkpoint.id }
}

function running(kind: JobRecord['kind'], params: unknown): JobRecord {
  const now = new Date().toISOString()
  return {
    id: `job-${kind}-${Math.random()}`,
    kind,
    params,
    state: 'running',
    progress: null,
    result: null,
    error: null,
    createdAt: now,
    startedAt: now,
    finishedAt: null,
  }
}

/** The UserError a check throws, as a user would read it (message and field). */
function refusal(check: () => unknown): { code: string; message: string; field?: string } {
  try {
    check()
  } catch (err) {
    if (err instanceof UserError) return err.toApiError()
    throw err
  }
  throw new Error('expected a refusal')
}

describe('job preconditions, one definition for the app and the CLI', () => {
  it('refuses a job on a busy dataset with the same words in the app and the CLI', () => {
    const { store, datasetId } = project()
    const exporting = running('data.export', { datasetId, out: '/x.jsonl' })
    const requests: StartJob[] = [
      { kind: 'data.clean', params: { datasetId } },
      { kind: 'data.quality', params: { datasetId } },
      { kind: 'data.delete', params: { datasetId } },
      { kind: 'data.import', params: { dataset: 'web', paths: ['/a'], format: 'auto' } },
    ]
    // The app: its supervisor's active jobs. The CLI: the project's job rows.
    store.jobs.insert(exporting, process.pid)
    for (const request of requests) {
      const app = refusal(() => checkJob(request, { store, active: [exporting] }))
      expect(app.code).toBe('conflict')
      expect(app.message).toBe('"web" is busy (export in progress). Wait for it or cancel it.')
      expect(refusal(() => checkInProject(request, store))).toEqual(app)
    }
    // Another dataset, or an import into a new name, is free.
    const other = {
      kind: 'data.import',
      params: { dataset: 'news', paths: ['/a'], format: 'auto' },
    }
    expect(checkInProject(other as StartJob, store)).toEqual(other)
    store.close()
  })

  it('refuses an import into a name another import is filling, before the dataset exists', () => {
    const { store } = project()
    const importing = running('data.import', { dataset: 'news', paths: ['/a'] })
    const request: StartJob = {
      kind: 'data.import',
      params: { dataset: 'news', paths: ['/b'], format: 'auto' },
    }
    expect(refusal(() => checkJob(request, { store, active: [importing] }))).toMatchObject({
      message: '"news" is busy (import in progress). Wait for it or cancel it.',
      field: 'dataset',
    })
    store.close()
  })

  it('does not count a job whose process died (the CLI marks it failed first)', () => {
    const { store, datasetId } = project()
    // A pid no process has: the CLI that ran this export was killed.
    store.jobs.insert(running('data.clean', { datasetId }), 2 ** 22 + 12345)
    const request: StartJob = { kind: 'data.clean', params: { datasetId } }
    expect(checkInProject(request, store)).toEqual(request)
    expect(store.jobs.list({ states: ['running'], limit: 10 })).toEqual([])
    store.close()
  })

  it('checks and resolves a JSON Lines output as the app always has', () => {
    const { dir, store, datasetId } = project()
    const ctx = { store, active: [] }
    const exportTo = (out: string, overwrite = false): StartJob => ({
      kind: 'data.export',
      params: { datasetId, status: 'kept', out, overwrite },
    })
    const checked = checkJob(exportTo(join(dir, 'kept')), ctx)
    expect(checked.params).toMatchObject({ out: join(dir, 'kept.jsonl') })
    writeFileSync(join(dir, 'kept.jsonl'), '')
    expect(refusal(() => checkJob(exportTo(join(dir, 'kept.jsonl')), ctx))).toMatchObject({
      code: 'conflict',
      field: 'out',
    })
    expect(checkJob(exportTo(join(dir, 'kept.jsonl'), true), ctx).params).toMatchObject({
      out: join(dir, 'kept.jsonl'),
    })
    expect(refusal(() => checkJob(exportTo('kept.jsonl'), ctx)).message).toContain('relative')
    expect(
      refusal(() => checkJob(exportTo(join(dir, 'missing', 'kept.jsonl')), ctx)),
    ).toMatchObject({ code: 'not_found', field: 'out' })
    store.close()
  })

  it('wants a new GGUF file, or a new or empty folder, for a model export', () => {
    const { dir, store } = project()
    const ctx = { store, active: [] }
    const { runId } = runWithCheckpoint(store, 'base', 'pretrain')
    const exportTo = (out: string, format: 'hf' | 'gguf'): StartJob => ({
      kind: 'model.export',
      params: { runId, checkpointId: null, out, format, dtype: 'fp32' },
    })
    mkdirSync(join(dir, 'empty'))
    mkdirSync(join(dir, 'full'))
    writeFileSync(join(dir, 'full', 'config.json'), '{}')
    writeFileSync(join(dir, 'model.gguf'), '')
    expect(checkJob(exportTo(join(dir, 'empty'), 'hf'), ctx).params).toMatchObject({
      out: join(dir, 'empty'),
    })
    expect(checkJob(exportTo(join(dir, 'new'), 'hf'), ctx).params).toMatchObject({
      out: join(dir, 'new'),
    })
    expect(refusal(() => checkJob(exportTo(join(dir, 'full'), 'hf'), ctx)).message).toBe(
      `${join(dir, 'full')} is not empty: choose a new folder.`,
    )
    expect(refusal(() => checkJob(exportTo(join(dir, 'model.gguf'), 'hf'), ctx)).message).toBe(
      `${join(dir, 'model.gguf')} is a file: choose a new folder.`,
    )
    expect(refusal(() => checkJob(exportTo(join(dir, 'model.gguf'), 'gguf'), ctx)).message).toBe(
      `${join(dir, 'model.gguf')} already exists: choose a new file name.`,
    )
    store.close()
  })

  it('wants a run with the checkpoint asked for, and a reward model to score with', () => {
    const { store } = project()
    const base = runWithCheckpoint(store, 'base', 'pretrain')
    const rm = runWithCheckpoint(store, 'rm', 'reward')
    const score = (runId: string, checkpointId: number | null): StartJob => ({
      kind: 'model.score',
      params: { runId, checkpointId, prompt: 'Hi', replies: ['a'], chat: false },
    })
    const same = (request: StartJob) => {
      const app = refusal(() => checkJob(request, { store, active: [] }))
      expect(refusal(() => checkInProject(request, store))).toEqual(app)
      return app
    }
    expect(checkJob(score(rm.runId, rm.checkpointId), { store, active: [] })).toEqual(
      score(rm.runId, rm.checkpointId),
    )
    expect(same(score('nope', null))).toMatchObject({ code: 'not_found', field: 'runId' })
    expect(same(score(rm.runId, rm.checkpointId + 100)).message).toBe(
      `Run "rm" has no checkpoint ${rm.checkpointId + 100}.`,
    )
    expect(same(score(base.runId, null)).message).toBe(
      'Run "base" is not a reward model: train one with the kind "A reward model" (train.kind "reward").',
    )
    store.close()
  })
})
