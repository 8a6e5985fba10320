import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { parquetWriteBuffer } from 'hyparquet-writer'

/** The hand-written pages and corpus in test/fixtures/data. */
export const fixturesDir = resolve('test/fixtures/data')

/**
 * A folder to import, like one a user would drop: the fixture pages and corpus, plus
 * what real folders also hold and an import must survive: a gzipped JSONL, a truncated
 * gzip, a binary file named .txt, a JSONL with an invalid UTF-8 line, a Parquet file,
 * a file of an unknown type and a hidden file. Returns what to expect.
 */
export function makeImportFolder(dir: string): {
  root: string
  corrupt: { file: string; line: number | null }[]
} {
  const root = join(dir, 'to-import')
  mkdirSync(root, { recursive: true })
  cpSync(fixturesDir, root, { recursive: true })
  const extra = join(root, 'extra')
  mkdirSync(extra, { recursive: true })

  const good = [
    'The night train still runs twice a week between the two capitals, and its sleeping cars were refitted last year. Passengers can book a bed in a cabin for two, eat dinner in the restaurant car and wake up at the other end of the country. The company says that demand has doubled since the refit, mostly from families and from people who would rather not fly. Tickets go on sale three months ahead and the summer trains are often full within days.',
    'The old quarry outside the village has become a nature reserve. Water filled the deepest pit after the pumps were switched off, and the lake now attracts herons, kingfishers and dragonflies. Volunteers have planted hedges along the rim and built a path with benches where visitors can sit and watch the birds. The reserve is open every day from sunrise to sunset, and dogs are welcome on a short lead.',
  ]
  writeFileSync(
    join(extra, 'trains.jsonl.gz'),
    gzipSync(good.map((text, i) => JSON.stringify({ text, topic: `extra-${i}` })).join('\n')),
  )
  const whole = gzipSync(Buffer.from(good.map((text) => JSON.stringify({ text })).join('\n')))
  writeFileSync(join(extra, 'truncated.jsonl.gz'), whole.subarray(0, Math.floor(whole.length / 2)))
  writeFileSync(
    join(extra, 'photo.txt'),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48]),
  )
  writeFileSync(
    join(extra, 'mixed-encoding.jsonl'),
    Buffer.concat([
      Buffer.from(`${JSON.stringify({ text: good[0].replace('night train', 'day train') })}\n`),
      Buffer.from('{"text": "caf'),
      Buffer.from([0xe9]),
      Buffer.from(' in Latin-1, not UTF-8"}\n'),
    ]),
  )
  writeFileSync(
    join(extra, 'reviews.parquet'),
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'review_id', data: [1, 2, 3], type: 'INT32' },
          {
            name: 'text',
            data: [
              'The new library building is bright and quiet, with long tables by the windows and plenty of sockets for laptops. The staff were helpful when I asked about the local history archive, and the café on the ground floor makes good coffee. I will certainly come back to study here during the exam period.',
              '',
              'We stayed at the campsite by the lake for a week in August. The pitches are large and shaded, the showers were clean and hot, and the children loved the small beach. It gets busy at weekends, so book early if you want a place near the water.',
            ],
            type: 'STRING',
          },
          { name: 'stars', data: [5, 1, 4], type: 'INT32' },
        ],
      }),
    ),
  )
  writeFileSync(join(extra, 'archive.bin'), 'not a format Frugal reads')
  writeFileSync(join(extra, '.DS_Store'), Buffer.from([0, 0, 0, 1]))
  return {
    root,
    corrupt: [
      { file: join(root, 'corpus', 'articles.jsonl'), line: 7 },
      { file: join(root, 'corpus', 'forum.csv'), line: 4 },
      { file: join(extra, 'archive.bin'), line: null },
      { file: join(extra, 'mixed-encoding.jsonl'), line: 2 },
      { file: join(extra, 'photo.txt'), line: null },
      { file: join(extra, 'reviews.parquet'), line: 2 },
      { file: join(extra, 'truncated.jsonl.gz'), line: null },
    ],
  }
}

export function readFixture(...parts: string[]): string {
  return readFileSync(join(fixturesDir, ...parts), 'utf8')
}
