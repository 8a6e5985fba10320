import { describe, expect, it, vi } from 'vitest'
import { createRouter } from '../../../src/main/api/router'
import type { ApiHandlers } from '../../../src/main/api/types'
import { UserError } from '../../../src/shared/errors'

function routerWith(handlers: Partial<ApiHandlers>, onInternal = vi.fn()) {
  return { router: createRouter(handlers as ApiHandlers, onInternal), onInternal }
}

describe('API router', () => {
  it('passes validated params, with defaults filled in, to the handler', async () => {
    const list = vi.fn(() => [])
    const { router } = routerWith({ 'jobs.list': list })
    expect(await router.invoke('jobs.list', undefined)).toEqual({ ok: true, value: [] })
    expect(list).toHaveBeenCalledWith({ limit: 50 })
  })

  it('refuses unknown methods, including names inherited from Object', async () => {
    const { router } = routerWith({})
    expect(await router.invoke('project.nuke', {})).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
    expect(await router.invoke('toString', {})).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
  })

  it('returns the first invalid field with a readable message', async () => {
    const { router } = routerWith({ 'project.open': vi.fn() })
    const result = await router.invoke('project.open', { path: '' })
    expect(result).toEqual({
      ok: false,
      error: { code: 'invalid_params', field: 'path', message: 'path: Enter a file path.' },
    })
    const extra = await router.invoke('project.open', { path: '/x.frugal', evil: true })
    expect(extra).toMatchObject({ ok: false, error: { code: 'invalid_params' } })
  })

  it('validates job params per kind', async () => {
    const start = vi.fn()
    const { router } = routerWith({ 'jobs.start': start })
    const bad = await router.invoke('jobs.start', {
      kind: 'dataset.count',
      params: { datasetId: -3 },
    })
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'invalid_params', field: 'params.datasetId' },
    })
    const unknownKind = await router.invoke('jobs.start', { kind: 'rm -rf', params: {} })
    expect(unknownKind).toMatchObject({ ok: false, error: { code: 'invalid_params' } })
    await router.invoke('jobs.start', { kind: 'backend.benchmark', params: {} })
    expect(start).toHaveBeenCalledWith({
      kind: 'backend.benchmark',
      params: { seconds: 5, size: 512 },
    })
  })

  it('turns user errors into values and bugs into internal errors', async () => {
    const { router, onInternal } = routerWith({
      'project.current': () => {
        throw new UserError('no_project', 'No project is open.')
      },
      'project.recent': () => {
        throw new TypeError('cannot read x of undefined')
      },
    })
    expect(await router.invoke('project.current', {})).toEqual({
      ok: false,
      error: { code: 'no_project', message: 'No project is open.' },
    })
    const bug = await router.invoke('project.recent', {})
    expect(bug.ok ? null : bug.error.code).toBe('internal')
    expect(bug.ok ? null : bug.error.message).toMatch(/cannot read x/)
    expect(onInternal).toHaveBeenCalledOnce()
  })
})
