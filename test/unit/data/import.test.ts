import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { UserError } from '../../../src/shared/errors'
import { extractMainContent } from '../../../src/worker/data/import/html'
import { readLines } from '../../../src/worker/data/import/lines'
import { runImport, type ImportRequest } from '../../../src/worker/data/import/importer'
import { makeImportFolder, readFixture } from '../../helpers/data-fixtures'
import { useTempDir } from '../../helpers/temp'
import { sqlOf } from '../../helpers/sql'

const tempDir = useTempDir('frugal-import-')

function setup() {
  const dir = tempDir()
  const store = Store.create(join(dir, 'p.frugal'))
  const controller = new AbortController()
  const run = (
    request: Partial<ImportRequest> & { paths: string[] },
    overrides: Partial<Parameters<typeof runImport>[1]> = {},
  ) =>
    runImport(
      { dataset: 'web', format: 'auto', ...request },
      {
        store,
        jobId: 'test',
        signal: controller.signal,
        progress: () => undefined,
        throwIfCancelled: () => {
          if (controller.signal.aborted) throw new Error('cancelled')
        },
        ...overrides,
      },
    )
  return { dir, store, run, controller }
}

const texts = (store: Store) =>
  sqlOf(store)
    .prepare<[], { text: string; source: string; meta: string | null }>(
      'SELECT text, source, meta FROM documents ORDER BY id',
    )
    .all()

describe('import', () => {
  it('imports a folder of mixed formats and reports every corrupt file with file and line', async () => {
    const { dir, store, run } = setup()
    const folder = makeImportFolder(dir)
    const report = await run({ paths: [folder.root] })

    expect(
      report.errors
        .map((e) => ({ file: e.file, line: e.line }))
        .sort((a, b) => a.file.localeCompare(b.file)),
    ).toEqual(folder.corrupt)
    expect(report.skipped).toBe(folder.corrupt.length)
    const docs = texts(store)
    expect(report.imported).toBe(docs.length)
    // One per page, per txt file, per good JSONL/CSV line and Parquet row.
    expect(docs.filter((d) => d.source.endsWith('.html'))).toHaveLength(4)
    expect(docs.some((d) => d.text.startsWith('The night train still runs'))).toBe(true)
    expect(docs.some((d) => d.text.startsWith('The day train still runs'))).toBe(true)
    expect(docs.some((d) => d.text.startsWith('We stayed at the campsite'))).toBe(true)
    const jsonl = docs.find((d) => d.source.endsWith('articles.jsonl:1'))!
    expect(JSON.parse(jsonl.meta!)).toEqual({
      id: 'lighthouse',
      url: 'https://example.org/heritage/lighthouse',
    })
    const csv = docs.find((d) => d.source.endsWith('forum.csv:5'))!
    expect(JSON.parse(csv.meta!)).toMatchObject({ author: 'oldtimer', posted_at: '2024-03-07' })
    const parquet = docs.find((d) => d.source.endsWith('reviews.parquet#3'))!
    expect(JSON.parse(parquet.meta!)).toEqual({ review_id: 3, stars: 4 })
    expect(store.datasets.list().map((d) => [d.name, d.documents])).toEqual([['web', docs.length]])
  })

  it('keeps the article text of real-world page layouts and drops navigation, banners and footers', () => {
    const pages = {
      'harbour-gazette-flood-defences.html': {
        keep: [
          'Council approves new flood defences for the river district',
          'Councillors voted by twenty-seven to four',
          'What happens next',
          'public exhibition of the plans',
        ],
        drop: [
          'Accept all cookies',
          'Subscribe from',
          'Most read',
          'Bakery on the high street',
          'Share this article',
          'Comments (48)',
          'Harbour Gazette Media Ltd',
          'Get the Gazette in your inbox',
          'Skip to main content',
          'Advertisement',
        ],
      },
      'sourdough-blog.html': {
        keep: [
          'What I learned from a year of baking sourdough',
          'The second lesson was about temperature',
          'bake the same recipe ten times',
        ],
        drop: [
          'Recent Posts',
          'Archives',
          'Proudly powered by WordPress',
          'Leave a Reply',
          'Previous post',
          'Notes from a home kitchen',
          'Great post!',
        ],
      },
      'field-guide-docs.html': {
        keep: ['Tides are the regular rise and fall', 'The rule of twelfths', '1/12 2/12 3/12'],
        drop: [
          'Version 3.2 is out',
          'Safety on the shore',
          'Edit this page on GitHub',
          'Was this page helpful',
          'Built with Sphinx',
          'Search the docs',
        ],
      },
      'weeknight-dal-recipe.html': {
        keep: [
          'Red lentil dal with crispy onions',
          'Rinse 200 grams of red lentils',
          'Leftover dal keeps for three days',
        ],
        drop: [
          'I accept',
          'Quick dinners',
          'Share on Facebook',
          'Advertisement',
          'Popular this week',
          'Never miss a recipe',
          'Amazon Associate',
          'Jump to Recipe',
        ],
      },
    }
    for (const [file, expected] of Object.entries(pages)) {
      const page = extractMainContent(readFixture('pages', file))
      for (const phrase of expected.keep)
        expect(page.text, `${file} keeps "${phrase}"`).toContain(phrase)
      for (const phrase of expected.drop)
        expect(page.text, `${file} drops "${phrase}"`).not.toContain(phrase)
      // Paragraphs stay paragraphs.
      expect(page.text.split('\n\n').length).toBeGreaterThan(3)
    }
  })

  it('reads .txt as one document per file, or per blank-line block when asked', async () => {
    const { dir, store, run } = setup()
    const file = join(dir, 'notes.txt')
    writeFileSync(file, 'First block, line one.\nLine two.\n\n\nSecond block.\n\nThird block.\n')
    await run({ paths: [file], dataset: 'whole' })
    await run({ paths: [file], dataset: 'blocks', format: 'txt-blocks' })
    const rows = texts(store)
    expect(rows[0].text).toContain('Third block.')
    expect(rows.slice(1).map((r) => [r.text, r.source.split(':').pop()])).toEqual([
      ['First block, line one.\nLine two.', '1'],
      ['Second block.', '5'],
      ['Third block.', '7'],
    ])
  })

  it('uses the chosen text field and explains a missing one', async () => {
    const { dir, store, run } = setup()
    const file = join(dir, 'posts.jsonl')
    writeFileSync(
      file,
      '{"title": "A", "body": "Body text one.", "n": 1}\n{"title": "B", "body": "Body text two.", "n": 2}\n',
    )
    await expect(run({ paths: [file], textField: 'content' })).rejects.toThrow(
      /no field "content".*title, body, n/,
    )
    expect(store.datasets.list()).toEqual([])
    const report = await run({ paths: [file], textField: 'body' })
    expect(report.imported).toBe(2)
    expect(JSON.parse(texts(store)[0].meta!)).toEqual({ title: 'A', n: 1 })
  })

  it('appends to an existing dataset', async () => {
    const { dir, store, run } = setup()
    const a = join(dir, 'a.txt')
    const b = join(dir, 'b.txt')
    writeFileSync(a, 'Document A.')
    writeFileSync(b, 'Document B.')
    await run({ paths: [a] })
    await run({ paths: [b] })
    expect(store.datasets.list()).toHaveLength(1)
    expect(store.documents.count(store.datasets.list()[0].id)).toBe(2)
  })

  it('leaves no half dataset behind when cancelled, and none when the process died', async () => {
    const { dir, store, run, controller } = setup()
    const file = join(dir, 'big.jsonl')
    writeFileSync(
      file,
      Array.from({ length: 5000 }, (_, i) =>
        JSON.stringify({ text: `Document number ${i}.` }),
      ).join('\n'),
    )
    let batches = 0
    await expect(
      run(
        { paths: [file] },
        {
          throwIfCancelled: () => {
            // Cancel after the first batch has been written.
            if (++batches > 2) controller.abort()
            if (controller.signal.aborted) throw new UserError('cancelled', 'Cancelled.')
          },
        },
      ),
    ).rejects.toThrow('Cancelled')
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM datasets').get()).toEqual({ n: 0 })
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM documents').get()).toEqual({ n: 0 })

    // A crash: an import left 'running' by a process that no longer exists.
    const id = store.datasets.create('crashed', new Date().toISOString())
    sqlOf(store).prepare(`UPDATE datasets SET state = 'importing' WHERE id = ?`).run(id)
    const importId = store.imports.begin(
      id,
      'gone',
      999_999_999,
      { paths: [file], format: 'auto' },
      new Date().toISOString(),
    )
    store.documents.insert(id, importId, [
      { source: 'x', text: 'half', meta: null, charCount: 4, tokenEstimate: 1 },
    ])
    expect(store.datasets.list()).toEqual([])
    expect(store.imports.abandonOrphans((pid) => pid === process.pid)).toBe(1)
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM datasets').get()).toEqual({ n: 0 })
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM documents').get()).toEqual({ n: 0 })
  })

  it('reads on reader threads exactly as on this thread: same documents, order and problems', async () => {
    const dir = tempDir()
    const folder = makeImportFolder(dir)
    // Files long enough that a thread runs ahead of the writes and waits for them.
    for (const [name, lines] of [
      ['big-a.jsonl', 9000],
      ['big-b.jsonl', 7000],
    ] as const)
      writeFileSync(
        join(folder.root, name),
        Array.from({ length: lines }, (_, i) =>
          JSON.stringify({ text: `${name} line ${i + 1}.`, n: i }),
        ).join('\n'),
      )
    const results = []
    for (const threads of [0, 2]) {
      const store = Store.create(join(dir, `threads-${threads}.frugal`))
      const report = await runImport(
        { dataset: 'web', format: 'auto', paths: [folder.root] },
        {
          store,
          jobId: 'test',
          signal: new AbortController().signal,
          progress: () => undefined,
          throwIfCancelled: () => undefined,
          threads,
        },
      )
      results.push({ report, docs: texts(store) })
      store.close()
    }
    expect(results[0].docs.length).toBeGreaterThan(16_000)
    expect(results[0].report.errors.length).toBe(folder.corrupt.length)
    expect(results[1]).toEqual(results[0])
  })

  it('stops its reader threads and leaves no half dataset when cancelled', async () => {
    const { dir, store, run, controller } = setup()
    const files = ['a', 'b', 'c'].map((name) => {
      const file = join(dir, `${name}.jsonl`)
      writeFileSync(
        file,
        Array.from({ length: 6000 }, (_, i) => JSON.stringify({ text: `${name} ${i}.` })).join(
          '\n',
        ),
      )
      return file
    })
    let checks = 0
    await expect(
      run(
        { paths: files },
        {
          threads: 2,
          throwIfCancelled: () => {
            if (++checks > 6) controller.abort()
            if (controller.signal.aborted) throw new UserError('cancelled', 'Cancelled.')
          },
        },
      ),
    ).rejects.toThrow('Cancelled')
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM datasets').get()).toEqual({ n: 0 })
    expect(sqlOf(store).prepare('SELECT COUNT(*) AS n FROM documents').get()).toEqual({ n: 0 })
  })

  it('refuses a folder with nothing importable, saying why', async () => {
    const { dir, run, store } = setup()
    writeFileSync(join(dir, 'image.png'), Buffer.from([1, 2, 3]))
    await expect(run({ paths: [dir] })).rejects.toThrow(/No importable files.*image\.png/)
    writeFileSync(join(dir, 'broken.jsonl'), '{oops\n[1,2]\n')
    await expect(run({ paths: [join(dir, 'broken.jsonl')] })).rejects.toThrow(
      /Nothing could be imported.*Bad JSON/,
    )
    expect(store.datasets.list()).toEqual([])
  })

  it('reports progress in bytes and documents', async () => {
    const { dir, run } = setup()
    const file = join(dir, 'p.jsonl')
    writeFileSync(
      file,
      Array.from({ length: 3000 }, (_, i) => JSON.stringify({ text: `Doc ${i}` })).join('\n'),
    )
    const seen: { done: number; total: number | null; documents?: number }[] = []
    await run(
      { paths: [file] },
      {
        progress: (p) =>
          seen.push({ done: p.done, total: p.total, documents: p.metrics?.documents }),
      },
    )
    const last = seen.at(-1)!
    expect(last.done).toBe(last.total)
    expect(last.documents).toBe(3000)
  })

  it('follows links only inside the chosen folder, and lists the ones that lead out', async () => {
    const { dir, store, run } = setup()
    // A "downloaded corpus" whose notes.txt is a link to a private key elsewhere.
    const secret = join(dir, 'home', '.ssh', 'id_rsa')
    mkdirSync(join(dir, 'home', '.ssh'), { recursive: true })
    writeFileSync(secret, '-----BEGIN OPENSSH PRIVATE KEY----- private key material')
    const corpus = join(dir, 'corpus')
    mkdirSync(join(corpus, 'posts'), { recursive: true })
    writeFileSync(join(corpus, 'posts', 'a.txt'), 'The harbour wall was rebuilt last winter.')
    symlinkSync(secret, join(corpus, 'notes.txt'))
    symlinkSync(join(dir, 'home'), join(corpus, 'more')) // a folder outside
    symlinkSync(join(corpus, 'posts', 'a.txt'), join(corpus, 'same.txt')) // inside: kept
    symlinkSync(corpus, join(corpus, 'posts', 'loop')) // back up: not walked twice
    symlinkSync(join(dir, 'nowhere.txt'), join(corpus, 'broken.txt'))

    const report = await run({ paths: [corpus] })
    const docs = texts(store)
    expect(docs.map((d) => d.text)).toEqual([
      'The harbour wall was rebuilt last winter.',
      'The harbour wall was rebuilt last winter.',
    ])
    expect(docs.some((d) => d.text.includes('PRIVATE KEY'))).toBe(false)
    const why = Object.fromEntries(
      report.errors.map((e) => [e.file.slice(corpus.length + 1), e.message]),
    )
    expect(why).toEqual({
      'notes.txt': `Skipped: a link that leads outside the chosen folder (to ${realpathSync(secret)}).`,
      more: `Skipped: a link that leads outside the chosen folder (to ${realpathSync(join(dir, 'home'))}).`,
      'broken.txt': 'Skipped: a link to nothing (broken link).',
    })
    // Named directly, a file is the user's choice, link or not.
    const direct = await run({ paths: [join(corpus, 'notes.txt')], dataset: 'direct' })
    expect(direct.imported).toBe(1)
  })

  it('skips a line past 64 MB as soon as it passes, reports it, and reads on; progress counts what a .gz expands to', async () => {
    const { dir, store, run } = setup()
    const file = join(dir, 'huge-line.jsonl.gz')
    const lines = [
      JSON.stringify({ text: 'The first post, before the huge one.' }),
      JSON.stringify({ text: 'x'.repeat(70 * 1024 * 1024) }),
      JSON.stringify({ text: 'The last post, after it.' }),
    ]
    writeFileSync(file, gzipSync(lines.join('\n')))
    const messages: string[] = []
    const report = await run(
      { paths: [file] },
      { progress: (p: { message?: string }) => void messages.push(p.message ?? '') },
    )
    expect(texts(store).map((d) => d.text)).toEqual([
      'The first post, before the huge one.',
      'The last post, after it.',
    ])
    expect(report.errors).toEqual([
      {
        file,
        line: 2,
        message: 'Line longer than 64 MB: skipped (a document may have at most 16 M characters).',
      },
    ])
    expect(messages.some((m) => /\(\d[\d,.]* MB uncompressed\)$/.test(m))).toBe(true)
  })

  it('splits lines without holding more than the limit, and numbers every line', async () => {
    // An async iterable, as a file stream is.
    const chunks = () =>
      Readable.from([
        Buffer.from('one\r\ntw'),
        Buffer.from('o\n' + 'z'.repeat(50)),
        Buffer.from('z'.repeat(50) + '\nthree\n'),
        Buffer.from('four'),
      ]) as AsyncIterable<Buffer>
    const got = []
    for await (const line of readLines(chunks(), 64)) got.push(line)
    expect(got).toEqual([
      { number: 1, text: 'one' },
      { number: 2, text: 'two' },
      { number: 3, text: null, tooLong: true },
      { number: 4, text: 'three' },
      { number: 5, text: 'four' },
    ])
  })
})
