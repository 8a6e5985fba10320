import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  APP_ENTRY,
  devServerUrlOf,
  isTrustedPage,
  rendererFile,
} from '../../../src/main/electron/trust'

describe('the desktop shell trusts exactly its own page', () => {
  it('answers IPC from app://frugal/index.html (any hash route) and nothing that merely looks like it', () => {
    expect(isTrustedPage(APP_ENTRY, undefined)).toBe(true)
    expect(isTrustedPage(`${APP_ENTRY}#/train/run/abc`, undefined)).toBe(true)
    for (const stranger of [
      // The substring check this replaces let these through.
      'file:///tmp/a.html?/renderer/index.html',
      'file:///home/me/out/renderer/index.html',
      'app://frugal/index.html?x=1',
      'app://frugal/other.html',
      'app://evil/index.html',
      'https://frugal/index.html',
      'not a url',
      undefined,
    ])
      expect(isTrustedPage(stranger, undefined), String(stranger)).toBe(false)
  })

  it('in development, exactly the dev server origin', () => {
    const dev = 'http://localhost:5173/'
    expect(isTrustedPage('http://localhost:5173/#/data', dev)).toBe(true)
    expect(isTrustedPage('http://localhost:5173.evil.test/', dev)).toBe(false)
    expect(isTrustedPage('http://localhost:5174/', dev)).toBe(false)
    expect(isTrustedPage(APP_ENTRY, dev)).toBe(false)
  })

  it('reads ELECTRON_RENDERER_URL only in an unpackaged (development) build', () => {
    const env = { ELECTRON_RENDERER_URL: 'http://evil.test/' }
    expect(devServerUrlOf(env, true)).toBeUndefined()
    expect(devServerUrlOf(env, false)).toBe('http://evil.test/')
    expect(devServerUrlOf({}, false)).toBeUndefined()
  })

  it('serves files of the renderer folder only', () => {
    // A pure function of paths: any folder does (this one need not exist).
    const root = resolve('out', 'renderer')
    expect(rendererFile('app://frugal/index.html', root)).toBe(join(root, 'index.html'))
    expect(rendererFile('app://frugal/', root)).toBe(join(root, 'index.html'))
    expect(rendererFile('app://frugal/assets/app-1.js', root)).toBe(
      join(root, 'assets', 'app-1.js'),
    )
    // Dot segments the URL parser resolves stay below the root.
    for (const url of ['app://frugal/../secret.txt', 'app://frugal/%2e%2e/secret.txt']) {
      const file = rendererFile(url, root)
      expect(file === null || file.startsWith(root + '/'), url).toBe(true)
    }
    for (const outside of [
      'app://frugal/assets/..%2f..%2f..%2fsecret.txt',
      'app://frugal/%E0%A4%A',
      'app://frugal/a%00.js',
      'app://other/index.html',
      'file:///opt/frugal/renderer/index.html',
    ])
      expect(rendererFile(outside, root), outside).toBeNull()
  })
})
