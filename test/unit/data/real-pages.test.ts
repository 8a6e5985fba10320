import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { extractMainContent } from '../../../src/worker/data/import/html'

/**
 * Real pages (test/fixtures/real-pages/README.md says where each was saved from): the
 * article text stays, the navigation each site really has goes.
 */
const dir = resolve('test/fixtures/real-pages')
const extract = (file: string) => extractMainContent(readFileSync(join(dir, file), 'utf8'))

const pages: Record<string, { keeps: string[]; drops: string[] }> = {
  'rust-book-ownership.html': {
    keeps: [
      'Ownership is a set of rules that govern how a Rust program manages memory.',
      'Rust has a feature for using a value without transferring ownership: references.',
    ],
    // mdBook's keyboard help, theme picker and previous/next links.
    drops: ['Keyboard shortcuts', 'navigate between chapters', 'Previous chapter', 'Coal', 'Navy'],
  },
  'nomicon-races.html': {
    keeps: ['Safe Rust guarantees an absence of data races'],
    drops: ['Keyboard shortcuts', 'to search in the book', 'Previous chapter'],
  },
  'node-querystring.html': {
    keeps: [
      'The node:querystring module provides utilities for parsing and formatting URL query strings.',
      'If that fails, a safer equivalent that does not throw on malformed URLs will be used.',
    ],
    // The sidebar's list of every module, the skip link and the table of contents.
    drops: ['Skip to content', 'Assertion testing', 'Child processes', 'Table of contents'],
  },
  'npm-cache.html': {
    keeps: ['Used to add, list, or clean the npm cache folder.'],
    drops: ['Edit this page', 'Table of contents'],
  },
  'xslt-intro.html': {
    keeps: ['This document describes libxslt, the XSLT C library developed for the GNOME project.'],
    // The whole site menu sits in a table cell beside the text.
    drops: ['Main Menu', 'Windows binaries', 'Reporting bugs and getting help', 'Mail archive'],
  },
}

describe('main content of real web pages', () => {
  for (const [file, { keeps, drops }] of Object.entries(pages)) {
    it(`${file}: keeps the article, drops the navigation`, () => {
      const { text } = extract(file)
      for (const sentence of keeps) expect(text).toContain(sentence)
      for (const nav of drops) expect(text).not.toContain(nav)
    })
  }

  it('keeps code blocks verbatim, indentation included', () => {
    const { text } = extract('nomicon-races.html')
    expect(text).toContain(
      '    unsafe {\n        // Incorrectly loading the idx after we did the bounds check.',
    )
  })
})
