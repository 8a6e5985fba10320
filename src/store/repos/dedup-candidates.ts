import type { Db } from '../database'

/**
 * A cleaning run's duplicate candidates, in temporary tables (a temporary file, sorted by
 * SQLite, gone with the connection or `dispose`): each surviving document's normalized-text
 * hash and MinHash signature, and its LSH band keys. Clustering (worker/data/dedup) reads
 * back only the groups that share a hash or a band key, so the corpus is never in memory.
 * Signatures live only here: they serve this run's clustering and nothing after it, and
 * left out of the documents table they keep its rows within a page.
 */
export class DedupCandidates {
  private readonly insertDoc
  private readonly insertBands
  /** The band statement's parameters, reused: (band, key, id) per band. */
  private readonly bandParams: number[]
  private readonly readSignature
  private readonly readEntry

  constructor(
    private readonly db: Db,
    private readonly bands: number,
  ) {
    db.exec(`
      DROP TABLE IF EXISTS temp.dedup_doc;
      DROP TABLE IF EXISTS temp.dedup_band;
      CREATE TEMP TABLE dedup_doc (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, signature BLOB);
      CREATE TEMP TABLE dedup_band (band INTEGER NOT NULL, key INTEGER NOT NULL, id INTEGER NOT NULL);
    `)
    this.insertDoc = db.prepare<[number, string, Buffer | null]>(
      'INSERT OR REPLACE INTO temp.dedup_doc (id, hash, signature) VALUES (?, ?, ?)',
    )
    // All of a document's band keys in one statement: one bind-and-step instead of one per band.
    this.insertBands = db.prepare(
      `INSERT INTO temp.dedup_band (band, key, id) VALUES ${Array.from({ length: bands }, () => '(?, ?, ?)').join(', ')}`,
    )
    this.bandParams = new Array<number>(bands * 3).fill(0)
    this.readSignature = db
      .prepare<[number], Buffer | null>('SELECT signature FROM temp.dedup_doc WHERE id = ?')
      .pluck()
    this.readEntry = db.prepare<[number], { hash: string; signature: Buffer | null }>(
      'SELECT hash, signature FROM temp.dedup_doc WHERE id = ?',
    )
  }

  /**
   * Record a document: its hash, and for near-duplicate search its signature's bytes and
   * one key per band (`bands` of them). Call inside the caller's write transaction.
   */
  add(
    id: number,
    hash: string,
    signature: Buffer | null,
    bandKeys: ArrayLike<number> | null,
  ): void {
    this.insertDoc.run(id, hash, signature)
    if (!bandKeys) return
    if (bandKeys.length !== this.bands)
      throw new Error(`Expected ${this.bands} band keys, got ${bandKeys.length}.`)
    for (let band = 0; band < bandKeys.length; band++) {
      this.bandParams[3 * band] = band
      this.bandParams[3 * band + 1] = bandKeys[band]
      this.bandParams[3 * band + 2] = id
    }
    this.insertBands.run(this.bandParams)
  }

  /** Each group of two or more documents with the same hash, ids ascending. */
  sameHash(): Generator<number[]> {
    return this.groups(
      'SELECT group_concat(id) FROM temp.dedup_doc GROUP BY hash HAVING COUNT(*) > 1',
    )
  }

  /** Each group of two or more documents with the same key in the same band, ids ascending. */
  sameBandKey(): Generator<number[]> {
    return this.groups(
      'SELECT group_concat(id) FROM temp.dedup_band GROUP BY band, key HAVING COUNT(*) > 1',
    )
  }

  /** The id lists a `group_concat(id)` query yields, one row at a time. */
  private *groups(sql: string): Generator<number[]> {
    for (const ids of this.db.prepare<[], string>(sql).pluck().iterate()) yield idsOf(ids)
  }

  /** A document's stored signature bytes, or null. */
  signature(id: number): Buffer | null {
    return this.readSignature.get(id) ?? null
  }

  /** A document's hash and signature bytes, or undefined when it was not added. */
  entry(id: number): { hash: string; signature: Buffer | null } | undefined {
    return this.readEntry.get(id)
  }

  dispose(): void {
    this.db.exec('DROP TABLE IF EXISTS temp.dedup_doc; DROP TABLE IF EXISTS temp.dedup_band;')
  }
}

function idsOf(list: string): number[] {
  return list
    .split(',')
    .map(Number)
    .sort((a, b) => a - b)
}
